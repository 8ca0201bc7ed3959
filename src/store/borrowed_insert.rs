//! A prepared statement that reads its text parameters where they lie instead of copying them.
//!
//! rusqlite binds every text with `SQLITE_TRANSIENT`: SQLite allocates and copies it before the statement
//! runs, then copies it again into the row. In a flood that first copy, six texts for each event, was a sixth
//! of the writer's time (bench part 3). Here texts are bound with `SQLITE_STATIC`, which tells SQLite the
//! caller keeps them alive; [`BorrowedInsert::execute`] keeps that promise by binding, running and clearing the
//! parameters within one call, so no borrowed text outlives the call that lent it.

use std::ffi::{CStr, CString, c_int};
use std::ptr::{self, NonNull};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ffi};

/// One parameter value, borrowed for the length of one [`BorrowedInsert::execute`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Param<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}

/// For a statement of rusqlite's own (it copies the texts).
impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Param::Int(value) => ValueRef::Integer(value),
            Param::Text(text) => ValueRef::Text(text.as_bytes()),
            Param::Null => ValueRef::Null,
        }))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(text: Option<&'a str>) -> Self {
        text.map_or(Param::Null, Param::Text)
    }
}

/// A statement prepared on `conn` that changes rows and returns none (an `INSERT`).
pub(super) struct BorrowedInsert<'conn> {
    conn: &'conn Connection,
    stmt: NonNull<ffi::sqlite3_stmt>,
}

impl<'conn> BorrowedInsert<'conn> {
    pub(super) fn prepare(conn: &'conn Connection, sql: &str) -> rusqlite::Result<Self> {
        let sql = CString::new(sql).map_err(|_| rusqlite::Error::InvalidQuery)?;
        let mut stmt = ptr::null_mut();
        // SAFETY: the handle is the open connection `conn` borrows for as long as the statement lives; the SQL
        // is NUL-terminated; SQLite writes the statement (or null) into `stmt`.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                conn.handle(),
                sql.as_ptr(),
                -1,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(conn, rc));
        }
        let stmt = NonNull::new(stmt).ok_or(rusqlite::Error::InvalidQuery)?;
        Ok(BorrowedInsert { conn, stmt })
    }

    /// Bind `params` (in order, from the first), run the statement to its end and return how many rows it
    /// changed. The parameters are cleared before returning: SQLite keeps no pointer into `params`.
    pub(super) fn execute(&mut self, params: &[Param<'_>]) -> rusqlite::Result<usize> {
        let stmt = self.stmt.as_ptr();
        // SAFETY: `stmt` is a live statement of `self.conn`. Each text is bound with SQLITE_STATIC and stays
        // borrowed until this function returns; by then the statement is reset and its bindings cleared, so
        // SQLite no longer refers to any of them.
        unsafe {
            let mut rc = ffi::sqlite3_bind_parameter_count(stmt);
            if rc as usize != params.len() {
                return Err(rusqlite::Error::InvalidParameterCount(params.len(), rc as usize));
            }
            for (index, param) in params.iter().enumerate() {
                let index = index as c_int + 1;
                rc = match *param {
                    Param::Int(value) => ffi::sqlite3_bind_int64(stmt, index, value),
                    Param::Text(text) => ffi::sqlite3_bind_text64(
                        stmt,
                        index,
                        text.as_ptr().cast(),
                        text.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Param::Null => ffi::sqlite3_bind_null(stmt, index),
                };
                if rc != ffi::SQLITE_OK {
                    break;
                }
            }
            if rc == ffi::SQLITE_OK {
                rc = loop {
                    match ffi::sqlite3_step(stmt) {
                        ffi::SQLITE_ROW => continue,
                        ffi::SQLITE_DONE => break ffi::SQLITE_OK,
                        failed => break failed,
                    }
                };
            }
            // The message is read before the reset, which may replace it.
            let outcome = if rc == ffi::SQLITE_OK {
                Ok(ffi::sqlite3_changes64(self.conn.handle()) as usize)
            } else {
                Err(error(self.conn, ffi::sqlite3_extended_errcode(self.conn.handle())))
            };
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
            outcome
        }
    }
}

impl Drop for BorrowedInsert<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared by `prepare` and is finalized once, here.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// The connection's last error, as rusqlite reports one (so callers see the same `ErrorCode`s).
fn error(conn: &Connection, code: c_int) -> rusqlite::Error {
    // SAFETY: the handle is open; SQLite's message is a NUL-terminated string valid until the next call on it,
    // copied here at once.
    let message = unsafe {
        let text = ffi::sqlite3_errmsg(conn.handle());
        (!text.is_null()).then(|| CStr::from_ptr(text).to_string_lossy().into_owned())
    };
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(n INTEGER, a TEXT NOT NULL, b TEXT)")
            .unwrap();
        conn
    }

    #[test]
    fn texts_are_stored_as_they_were_when_bound_though_their_buffers_change_after() {
        let conn = conn();
        let mut insert = BorrowedInsert::prepare(&conn, "INSERT INTO t VALUES (?, ?, ?), (?, ?, ?)").unwrap();
        let mut reused = String::from("first");
        let changed = insert
            .execute(&[
                Param::Int(1),
                Param::Text(&reused),
                Param::Null,
                Param::Int(2),
                Param::Text("é"),
                Param::Text(""),
            ])
            .unwrap();
        assert_eq!(changed, 2);
        reused.clear();
        reused.push_str("other");
        insert
            .execute(&[
                Param::Int(3),
                Param::Text(&reused),
                Param::from(Some("x")),
                Param::Int(4),
                Param::Text("y"),
                Param::from(None),
            ])
            .unwrap();
        let rows: Vec<(i64, String, Option<String>)> = conn
            .prepare("SELECT n, a, b FROM t ORDER BY n")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected = [
            (1, "first", None),
            (2, "é", Some("")),
            (3, "other", Some("x")),
            (4, "y", None),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(n, a, b)| (*n, a.to_string(), b.map(String::from)))
            .collect();
        assert_eq!(rows, expected);
    }

    #[test]
    fn a_failing_row_reports_sqlites_error_and_the_statement_runs_again_after() {
        let conn = conn();
        let mut insert = BorrowedInsert::prepare(&conn, "INSERT INTO t VALUES (?, ?, ?)").unwrap();
        let failed = insert.execute(&[Param::Int(1), Param::Null, Param::Null]).unwrap_err();
        assert_eq!(
            failed.sqlite_error_code(),
            Some(rusqlite::ErrorCode::ConstraintViolation)
        );
        assert!(failed.to_string().contains("NOT NULL"), "{failed}");
        assert!(matches!(
            insert.execute(&[Param::Int(1)]),
            Err(rusqlite::Error::InvalidParameterCount(1, 3))
        ));
        assert_eq!(
            insert.execute(&[Param::Int(2), Param::Text("a"), Param::Null]).unwrap(),
            1
        );
    }

    #[test]
    fn sql_that_does_not_prepare_says_why() {
        let conn = conn();
        let Err(failed) = BorrowedInsert::prepare(&conn, "INSERT INTO missing VALUES (?)") else {
            panic!("prepared");
        };
        assert!(failed.to_string().contains("no such table: missing"), "{failed}");
    }
}
