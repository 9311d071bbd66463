/* lineedit: GNU Readline in callback mode inside curses (see lineedit.h).
 *
 * Readline sees only the bytes we hand it (rl_getc_function) and never
 * the terminal: curses owns termios, readline's output goes to /dev/null
 * and the line is drawn by le_draw, the redisplay function.  Cursor
 * columns are computed from the characters' display widths, since
 * rl_point is a byte offset. */
#include "config.h"
#include "tui/lineedit.h"
#include "tui/complete.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <readline/history.h>
#include <readline/readline.h>

static WINDOW *le_win;
static qs_lua *le_Q;
static le_hooks hooks;
static int held = -1; /* the byte readline reads next */
static char history_file[4096];
static FILE *devnull;
static char *prompt;
static int active_now;

static int getc_held(FILE *f)
{
	(void)f;
	int c = held;
	held = -1;
	return c < 0 ? EOF : c;
}

static int input_available(void)
{
	return held >= 0;
}

/* Display width of the bytes s[0..n): wide characters count 2, control
 * characters 2 (^X), invalid bytes 1. */
static int width_of(const char *s, size_t n)
{
	mbstate_t st;
	memset(&st, 0, sizeof st);
	int w = 0;
	size_t i = 0;
	while (i < n) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + i, n - i, &st);
		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&st, 0, sizeof st);
			w += 1;
			i += 1;
			continue;
		}
		if (k == 0)
			k = 1;
		int cw = wc < 32 || wc == 127 ? 2 : wcwidth(wc);
		w += cw < 0 ? 1 : cw;
		i += k;
	}
	return w;
}

/* Put bytes s[0..n) at the cursor, control characters as ^X. */
static void put_bytes(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c < 32 || c == 127) {
			waddch(le_win, '^' | A_BOLD);
			waddch(le_win, (c == 127 ? '?' : c + '@') | A_BOLD);
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && (unsigned char)s[j] >= 32 && s[j] != 127)
			j++;
		waddnstr(le_win, s + i, (int)(j - i));
		i = j;
	}
}

/* Byte offset where the visible part of the line starts so that the
 * cursor fits in avail columns. */
static int scroll_start(const char *line, int point, int avail)
{
	int start = 0;
	while (start < point && width_of(line + start, (size_t)(point - start)) >= avail) {
		/* step one character */
		mbstate_t st;
		memset(&st, 0, sizeof st);
		wchar_t wc;
		size_t k = mbrtowc(&wc, line + start, (size_t)(point - start), &st);
		start += (k == 0 || k > (size_t)MB_CUR_MAX) ? 1 : (int)k;
	}
	return start;
}

void le_draw(int active)
{
	if (!le_win)
		return;
	active_now = active;
	int cols = getmaxx(le_win);
	werase(le_win);
	const char *p = rl_display_prompt ? rl_display_prompt
					  : (prompt ? prompt : "");
	attr_t pa = active ? A_BOLD : A_DIM;
	wattron(le_win, pa);
	waddstr(le_win, p);
	wattroff(le_win, pa);
	int pw = width_of(p, strlen(p));
	int avail = cols - pw - 1;
	if (avail < 4)
		avail = 4;
	const char *line = rl_line_buffer ? rl_line_buffer : "";
	int end = rl_end, point = rl_point;
	if (point > end)
		point = end;
	int start = scroll_start(line, point, avail);
	if (start > 0) { /* a '<' shows that the line goes on to the left */
		avail--;
		start = scroll_start(line, point, avail);
		waddch(le_win, '<' | A_BOLD);
		pw++;
	}
	/* as many bytes as fit after start */
	int stop = start;
	while (stop < end) {
		int k = 1;
		while (stop + k < end &&
		       ((unsigned char)line[stop + k] & 0xC0) == 0x80)
			k++;
		if (width_of(line + start, (size_t)(stop + k - start)) > avail)
			break;
		stop += k;
	}
	if (!active)
		wattron(le_win, A_DIM);
	put_bytes(line + start, (size_t)(stop - start));
	if (!active)
		wattroff(le_win, A_DIM);
	int cx = pw + width_of(line + start, (size_t)(point - start));
	if (cx >= cols)
		cx = cols - 1;
	wmove(le_win, 0, cx);
	wnoutrefresh(le_win);
}

static void redisplay(void)
{
	le_draw(active_now);
}

static void on_line(char *line)
{
	if (line && *line)
		add_history(line);
	hooks.line(hooks.ud, line);
}

/* Readline lists matches: show them in the output pane instead. */
static void show_matches(char **matches, int n, int maxlen)
{
	(void)maxlen;
	if (hooks.matches)
		hooks.matches(hooks.ud, matches + 1, n);
	redisplay();
}

/* ---- keys bound to workbench actions -------------------------------- */

static int k_help(int count, int key)
{
	(void)count;
	(void)key;
	hooks.key(hooks.ud, "help");
	return 0;
}

static int k_page_up(int count, int key)
{
	(void)count;
	(void)key;
	hooks.key(hooks.ud, "output_up");
	return 0;
}

static int k_page_down(int count, int key)
{
	(void)count;
	(void)key;
	hooks.key(hooks.ud, "output_down");
	return 0;
}

static void bind_seq(const char *seq, rl_command_func_t *fn)
{
	if (seq && *seq)
		rl_bind_keyseq(seq, fn);
}

void le_init(WINDOW *win, qs_lua *Q, const le_hooks *h,
	     const char *history_path)
{
	le_win = win;
	le_Q = Q;
	hooks = *h;
	devnull = fopen("/dev/null", "w");
	rl_readline_name = "qscope";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_prep_term_function = NULL;
	rl_deprep_term_function = NULL;
	rl_getc_function = getc_held;
	rl_input_available_hook = input_available;
	rl_redisplay_function = redisplay;
	rl_outstream = devnull ? devnull : stderr;
	qs_complete_install(le_Q);
	rl_completion_display_matches_hook = show_matches;
	rl_initialize();
	rl_variable_bind("bell-style", "none");
	/* F1 and PgUp/PgDn in xterm, screen/tmux and the Linux console */
	bind_seq("\033OP", k_help);
	bind_seq("\033[11~", k_help);
	bind_seq("\033[[A", k_help);
	bind_seq("\033[5~", k_page_up);
	bind_seq("\033[6~", k_page_down);
	const char *kf1 = tigetstr("kf1");
	if (kf1 && kf1 != (char *)-1)
		bind_seq(kf1, k_help);
	rl_set_screen_size(1, getmaxx(win));
	if (history_path) {
		snprintf(history_file, sizeof history_file, "%s", history_path);
		read_history(history_file);
	}
	le_set_prompt("qscope> ");
}

void le_set_window(WINDOW *win)
{
	le_win = win;
}

void le_resize(int lines, int cols)
{
	(void)lines;
	rl_set_screen_size(1, cols);
}

void le_feed(int byte)
{
	held = byte & 0xff;
	rl_callback_read_char();
}

void le_cancel(void)
{
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_replace_line("", 0);
	rl_point = rl_end = 0;
	rl_callback_handler_remove();
	rl_callback_handler_install(prompt, on_line);
}

void le_set_prompt(const char *p)
{
	free(prompt);
	prompt = strdup(p);
	rl_callback_handler_remove();
	rl_callback_handler_install(prompt ? prompt : "> ", on_line);
}

void le_prefill(const char *text, int point)
{
	rl_replace_line(text, 0);
	rl_end = (int)strlen(text);
	rl_point = point < 0 || point > rl_end ? rl_end : point;
}

void le_shutdown(void)
{
	rl_callback_handler_remove();
	if (history_file[0]) {
		stifle_history(1000);
		write_history(history_file);
	}
	qs_complete_free();
	free(prompt);
	prompt = NULL;
	if (devnull)
		fclose(devnull);
	devnull = NULL;
	le_win = NULL;
}
