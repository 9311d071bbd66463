/* main: argument parsing and mode dispatch only (script, chunk, REPL,
 * workbench).  Everything else lives in engine/, lua/, plot/ and tui/. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/qs_lua.h"
#include "tui/repl.h"
#include "tui/tui.h"

static const char usage[] =
	"Usage: qscope [OPTION]... [FILE.npy]...\n"
	"       qscope SCRIPT.lua [ARG]...\n"
	"       qscope -e 'LUA CHUNK'\n"
	"Explore the quantization error of NumPy tensors.\n"
	"\n"
	"  FILE.npy ...     open the tensors in the workbench (global t is the\n"
	"                   first, tensors the list); without a terminal, the\n"
	"                   plain prompt\n"
	"  SCRIPT.lua ARGS  run a Lua script headless; arg is set as in lua\n"
	"  -e CHUNK         run a Lua chunk headless and exit\n"
	"  --plain          the plain Readline prompt instead of the workbench\n"
	"  --shard I/N      run piece I of N (1 <= I <= N): qs.shard_select\n"
	"                   keeps every N-th item of a list, from the I-th\n"
	"  --version        print the version and exit\n"
	"  --help           print this help and exit\n"
	"\n"
	"The Lua API is the global table qs (docs/lua-api.md); the same engine\n"
	"loads from lua5.4 as require \"qscope\".  Errors in headless modes\n"
	"print one line 'qscope: ...' on stderr and exit with status 1.\n"
	"Environment: QSCOPE_LUA_DIR (Lua modules), QSCOPE_GNUPLOT (gnuplot).\n";

static void write_stdout(void *ud, const char *s, size_t n)
{
	(void)ud;
	fwrite(s, 1, n, stdout);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int fail(qs_lua *Q, const char *msg)
{
	fflush(stdout);
	fprintf(stderr, "qscope: %s\n", msg);
	qs_lua_close(Q);
	return 1;
}

int main(int argc, char **argv)
{
	const char *chunk = NULL;
	int plain = 0, i = 1;
	long shard_i = 1, shard_n = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("qscope %s\n", PACKAGE_VERSION);
			return 0;
		} else if (strcmp(a, "--plain") == 0) {
			plain = 1;
		} else if (strcmp(a, "-e") == 0) {
			if (i + 1 >= argc) {
				fputs("qscope: -e needs a Lua chunk\n", stderr);
				return 1;
			}
			chunk = argv[++i];
		} else if (strcmp(a, "--shard") == 0) {
			char *end = NULL;
			if (i + 1 < argc) {
				shard_i = strtol(argv[i + 1], &end, 10);
				if (end && *end == '/')
					shard_n = strtol(end + 1, &end, 10);
				else
					end = NULL;
			}
			if (!end || *end || shard_n < 1 || shard_i < 1 ||
			    shard_i > shard_n) {
				fputs("qscope: --shard needs I/N with 1 <= I <= "
				      "N, e.g. --shard 2/8\n",
				      stderr);
				return 1;
			}
			i++;
		} else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr,
				"qscope: unknown option '%s' (see qscope "
				"--help)\n",
				a);
			return 1;
		} else {
			break;
		}
	}
	if (!plain && !chunk && !(i < argc && ends_with(argv[i], ".lua"))) {
		/* the workbench, unless there is no terminal to show it on */
		int st = qs_tui_main(argc - i, argv + i);
		if (st != QS_TUI_NOTERM)
			return st;
	}
	qs_host host = {.write = write_stdout, .ud = NULL};
	qs_lua *Q = qs_lua_new(&host);
	if (!Q) {
		fputs("qscope: cannot create the Lua state (out of memory)\n",
		      stderr);
		return 1;
	}
	char setshard[96];
	snprintf(setshard, sizeof setshard,
		 "qs.shard = {index = %ld, count = %ld}", shard_i, shard_n);
	if (qs_lua_run_string(Q, setshard, "=shard") < 0)
		return fail(Q, qs_lua_error(Q));
	if (chunk) {
		if (qs_lua_run_string(Q, chunk, "=(command line)") < 0)
			return fail(Q, qs_lua_error(Q));
		if (i >= argc) {
			fflush(stdout);
			qs_lua_close(Q);
			return 0;
		}
	}
	if (i < argc && ends_with(argv[i], ".lua")) {
		if (qs_lua_run_file(Q, argv[i], argc - i - 1, argv + i + 1) < 0)
			return fail(Q, qs_lua_error(Q));
		fflush(stdout);
		qs_lua_close(Q);
		return 0;
	}
	if (i < argc) {
		/* tensors to open, then the interactive prompt */
		for (; i < argc; i++)
			if (qs_lua_open_tensor(Q, argv[i]) < 0)
				return fail(Q, qs_lua_error(Q));
	}
	int st = qs_repl_plain(Q);
	qs_lua_close(Q);
	return st;
}
