/** Times as the dashboard shows them, in the user's locale. */

const timeOfDay = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

function sameDay(a: Date, b: Date): boolean {
  return (
    a.getFullYear() === b.getFullYear() &&
    a.getMonth() === b.getMonth() &&
    a.getDate() === b.getDate()
  );
}

/** Short, for a list row: the time of day today, else the day and time. */
export function shortTime(ms: number, nowMs: number): string {
  const at = new Date(ms);
  return sameDay(at, new Date(nowMs)) ? timeOfDay.format(at) : dayAndTime.format(at);
}

/** Hours and minutes, `HH:MM` (24-hour), e.g. for when a snooze ends. */
export function clockTime(ms: number): string {
  const at = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** Long, for the detail pane. */
export function fullTime(ms: number): string {
  return full.format(new Date(ms));
}
