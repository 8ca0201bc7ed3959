import { screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderApp, settle } from './testing/harness';

describe('the settings strip', () => {
  it('toggles do not disturb and start at login, and follows do_not_disturb changes', async () => {
    const { fake } = await renderApp();
    const dnd = screen.getByTestId('do-not-disturb') as HTMLInputElement;
    const autostart = screen.getByTestId('autostart') as HTMLInputElement;
    expect(dnd.checked).toBe(false);
    await userEvent.click(dnd);
    expect(fake.calls.find((c) => c.command === 'set_do_not_disturb')?.args).toEqual({ on: true });
    await userEvent.click(autostart);
    expect(fake.calls.find((c) => c.command === 'set_autostart')?.args).toEqual({ on: true });
    expect(await fake.getAutostart()).toBe(true);

    // Turned off elsewhere (the tray menu): the toggle follows.
    fake.emit([{ change: 'do_not_disturb', on: false }]);
    await settle();
    expect(dnd.checked).toBe(false);
  });

  it('shows a failed command in a dismissible banner', async () => {
    const { fake } = await renderApp();
    fake.setAutostart = () => Promise.reject({ code: 'internal', message: 'cannot register' });
    await userEvent.click(screen.getByTestId('autostart'));
    expect(screen.getByTestId('problem').textContent).toContain('cannot register');
    expect((screen.getByTestId('autostart') as HTMLInputElement).checked).toBe(false);
  });
});
