/* repl: the plain REPL.  Readline runs in callback mode inside a poll loop
 * so that Ctrl-C, delivered as a flag by our SIGINT handler, can clear the
 * line at the prompt or stop Lua code through qs_lua_interrupt. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "tui/repl.h"
#include "tui/complete.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

static qs_lua *repl_Q;
static volatile sig_atomic_t got_sigint;
static int done;
static char *pending; /* an incomplete chunk waiting for more lines */
static char history_path[4096];

static void on_sigint(int sig)
{
	(void)sig;
	got_sigint = 1;
	qs_lua_interrupt(repl_Q); /* only acts while Lua runs */
}

static const char *prompt(void)
{
	return pending ? "qscope>> " : "qscope> ";
}

static void on_line(char *line)
{
	if (!line) { /* Ctrl-D */
		done = 1;
		fputc('\n', stdout);
		return;
	}
	if (*line)
		add_history(line);
	char *chunk = line;
	if (pending) {
		size_t a = strlen(pending), b = strlen(line);
		chunk = malloc(a + b + 2);
		if (!chunk) {
			free(line);
			return;
		}
		memcpy(chunk, pending, a);
		chunk[a] = '\n';
		memcpy(chunk + a + 1, line, b + 1);
		free(pending);
		pending = NULL;
		free(line);
	}
	if (*chunk && qs_lua_incomplete(repl_Q, chunk) &&
	    strncmp(chunk, "=", 1) != 0) {
		pending = chunk;
	} else {
		rl_callback_handler_remove();
		qs_lua_repl_line(repl_Q, chunk);
		free(chunk);
		got_sigint = 0;
	}
	if (!done)
		rl_callback_handler_install(prompt(), on_line);
}

int qs_repl_plain(qs_lua *Q)
{
	repl_Q = Q;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: poll sees EINTR */
	signal(SIGPIPE, SIG_IGN);

	rl_readline_name = "qscope";
	rl_catch_signals = 0;
	qs_complete_install(Q);
	const char *home = getenv("HOME");
	if (home && *home) {
		snprintf(history_path, sizeof history_path,
			 "%s/.qscope_history", home);
		read_history(history_path);
	}
	printf("qscope %s (Lua 5.4): qs.* is the API; Ctrl-D quits.\n",
	       PACKAGE_VERSION);
	fflush(stdout);
	rl_callback_handler_install(prompt(), on_line);
	while (!done) {
		struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
		int r = poll(&p, 1, -1);
		if (got_sigint) {
			got_sigint = 0;
			free(pending);
			pending = NULL;
			rl_free_line_state();
			rl_callback_sigcleanup();
			rl_replace_line("", 0);
			rl_point = rl_end = 0;
			fputs("^C\n", stdout);
			rl_callback_handler_remove();
			rl_callback_handler_install(prompt(), on_line);
			continue;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p.revents & (POLLIN | POLLHUP))
			rl_callback_read_char();
	}
	rl_callback_handler_remove();
	if (history_path[0]) {
		stifle_history(1000);
		write_history(history_path);
	}
	qs_complete_free();
	free(pending);
	return 0;
}
