/* keys: the workbench's key bindings in view mode, one table.
 *
 * Each binding names an action; tui.c performs actions by name, so the
 * same name works from Lua (ui.action) and the help overlay and ui.keys()
 * list this table.  Codes are curses key codes (keypad on in view mode). */
#ifndef QS_TUI_KEYS_H
#define QS_TUI_KEYS_H

#include "lua/qs_ui.h"

typedef struct tui_binding {
	int codes[4];       /* curses codes, 0-terminated */
	const char *label;  /* "c", "Left Right", "? F1" */
	const char *action; /* NULL ends the table */
	const char *help;
	const char *group;  /* heading in the help overlay */
} tui_binding;

extern const tui_binding tui_bindings[];

/* The help overlay's lines: related keys on one line, NULL-ended. */
typedef struct tui_help_line {
	const char *keys, *help, *group;
} tui_help_line;
extern const tui_help_line tui_help[];

/* The binding of a key code, or NULL. */
const tui_binding *tui_binding_for(int code);
/* The bindings as qs_ui_key rows (for qs_ui_ops.keys), NULL-ended. */
const qs_ui_key *tui_ui_keys(void);

#endif
