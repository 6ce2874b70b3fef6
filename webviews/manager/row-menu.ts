/**
 * A row's actions behind one button (the WAI-ARIA menu button pattern): the button says
 * `aria-haspopup="menu"` and `aria-expanded`; the menu holds `menuitem`s, opens on click, Enter,
 * Space or ArrowDown with the first item focused (ArrowUp: the last), moves with the arrows, Home
 * and End, runs an item with Enter, Space or a click, and closes on Escape, Tab or a click
 * elsewhere, the focus back on its button.
 *
 * Hand-written: `vscode-context-menu` of @vscode-elements has no menu roles, keeps the focus on
 * its wrapper (a screen reader hears no item) and does not give the focus back on Escape.
 */
import { h } from '../vscode.ts';

export interface MenuItem {
  id: string;
  label: string;
  run: () => void;
}

let open: { menu: HTMLElement; button: HTMLElement } | undefined;

/** The button that opens `items`; `label` names it for assistive technology. */
export function rowMenuButton(label: string, items: () => MenuItem[]): HTMLElement {
  const button = h(
    'button',
    {
      className: 'row-menu-button',
      'aria-haspopup': 'menu',
      'aria-expanded': 'false',
      'aria-label': label,
      title: label,
    },
    '⋯',
  );
  button.addEventListener('click', () => {
    if (open?.button === button) closeMenu(true);
    else openMenu(button, items(), 'first');
  });
  button.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    openMenu(button, items(), e.key === 'ArrowUp' ? 'last' : 'first');
  });
  return button;
}

function openMenu(button: HTMLElement, items: MenuItem[], focus: 'first' | 'last'): void {
  closeMenu(false);
  const id = `menu-${Math.random().toString(36).slice(2, 8)}`;
  const menu = h(
    'div',
    {
      className: 'row-menu',
      role: 'menu',
      id,
      'aria-label': button.getAttribute('aria-label') ?? '',
    },
    ...items.map((it) =>
      h(
        'button',
        {
          role: 'menuitem',
          tabindex: -1,
          className: `menu-${it.id}`,
          onclick: () => {
            closeMenu(true);
            it.run();
          },
        },
        it.label,
      ),
    ),
  );
  menu.addEventListener('keydown', (e) => onMenuKey(e, menu));
  // Placed in the page, not in the cell: the table's layout never sees it.
  document.body.append(menu);
  const r = button.getBoundingClientRect();
  const w = menu.offsetWidth;
  const left = Math.max(4, Math.min(r.right - w, window.innerWidth - w - 4));
  const below = r.bottom + menu.offsetHeight + 4 <= window.innerHeight;
  menu.style.left = `${left + window.scrollX}px`;
  menu.style.top = `${(below ? r.bottom + 2 : r.top - menu.offsetHeight - 2) + window.scrollY}px`;
  button.setAttribute('aria-expanded', 'true');
  button.setAttribute('aria-controls', id);
  open = { menu, button };
  const entries = menuItems(menu);
  (focus === 'first' ? entries[0] : entries[entries.length - 1])?.focus();
}

function menuItems(menu: HTMLElement): HTMLElement[] {
  return [...menu.querySelectorAll<HTMLElement>('[role="menuitem"]')];
}

function onMenuKey(e: KeyboardEvent, menu: HTMLElement): void {
  const entries = menuItems(menu);
  const at = entries.indexOf(document.activeElement as HTMLElement);
  const go = (i: number): void => {
    e.preventDefault();
    entries[(i + entries.length) % entries.length]?.focus();
  };
  switch (e.key) {
    case 'ArrowDown':
      return go(at + 1);
    case 'ArrowUp':
      return go(at - 1);
    case 'Home':
      return go(0);
    case 'End':
      return go(entries.length - 1);
    case 'Escape':
      e.preventDefault();
      return closeMenu(true);
    case 'Tab':
      // The focus goes on from the button, as if the menu had not been there.
      closeMenu(true);
      return;
    default:
      return;
  }
}

/** Closes the open menu, if any; `refocus` gives the focus back to its button. */
export function closeMenu(refocus: boolean): void {
  if (!open) return;
  const { menu, button } = open;
  open = undefined;
  menu.remove();
  button.setAttribute('aria-expanded', 'false');
  button.removeAttribute('aria-controls');
  if (refocus && button.isConnected) button.focus();
}

document.addEventListener('mousedown', (e) => {
  if (!open) return;
  const t = e.target as Node;
  if (!open.menu.contains(t) && !open.button.contains(t)) closeMenu(false);
});
window.addEventListener('resize', () => closeMenu(false));
