/* tui: the qscope workbench, a full-screen ncurses view of one tensor's
 * quantization error with a Lua prompt (GNU Readline) at the bottom.
 *
 * Panes: histogram with the clipping range and quantization grid, stats
 * (tensor, spec, parameters, every metric), compare table over all
 * calibration methods, per-channel ranges and errors, output.  Keys
 * change the spec; the Lua table `ui` does the same from scripts and
 * ~/.config/qscope/init.lua.  docs/workbench.md describes it. */
#ifndef QS_TUI_TUI_H
#define QS_TUI_TUI_H

/* Returned by qs_tui_main when there is no terminal to run on. */
#define QS_TUI_NOTERM (-100)

/* Run the workbench on the controlling terminal with the given .npy
 * files.  Returns the exit status: 0, or 1 after printing "qscope: ..."
 * on stderr when a file cannot be loaded or memory runs out; or
 * QS_TUI_NOTERM, having printed nothing and changed nothing, when stdin
 * or stdout is not a terminal or curses cannot start on it (the caller
 * then runs the plain REPL). */
int qs_tui_main(int nfiles, char **files);

#endif
