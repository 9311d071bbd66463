/* complete: Readline completion of Lua names through qs_lua_complete. */
#include "config.h"
#include "tui/complete.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

static qs_lua *cQ;
static char **found;
static size_t nfound, capfound;

static void add_found(void *ud, const char *m)
{
	(void)ud;
	if (nfound + 1 >= capfound) {
		size_t nc = capfound ? capfound * 2 : 16;
		char **nm = realloc(found, nc * sizeof *nm);
		if (!nm)
			return;
		found = nm;
		capfound = nc;
	}
	found[nfound] = strdup(m);
	if (found[nfound])
		nfound++;
}

static void clear_found(void)
{
	for (size_t k = 0; k < nfound; k++)
		free(found[k]);
	nfound = 0;
}

static char *name_gen(const char *text, int state)
{
	static size_t i;
	if (!state) {
		clear_found();
		qs_lua_complete(cQ, text, add_found, NULL);
		i = 0;
	}
	return i < nfound ? strdup(found[i++]) : NULL;
}

/* Whether the word at start lies inside a quoted string. */
static int in_string(int start)
{
	int q = 0;
	for (int i = 0; i < start; i++) {
		char c = rl_line_buffer[i];
		if (q && c == '\\')
			i++;
		else if (!q && (c == '"' || c == '\''))
			q = c;
		else if (q && c == q)
			q = 0;
	}
	return q != 0;
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	if (in_string(start))
		return NULL; /* Readline's default: file names */
	rl_attempted_completion_over = 1;
	return rl_completion_matches(text, name_gen);
}

void qs_complete_install(qs_lua *Q)
{
	cQ = Q;
	rl_attempted_completion_function = complete;
	rl_basic_word_break_characters = " \t\n\"'`@$><=;|&{(,+-*/%^~#[]";
	rl_completer_quote_characters = "\"'";
}

void qs_complete_free(void)
{
	clear_found();
	free(found);
	found = NULL;
	capfound = 0;
}
