/* t_files_fuzz: replays every seed-corpus and regression input of
 * tests/fuzz/ through the libFuzzer harness code (the harness sources are
 * included with QS_FUZZ_REPLAY, so the code run is the same), in every
 * `make check`: under valgrind in the normal build, AddressSanitizer and
 * UBSan in the sanitizer build.  A crash fails the test. */
#define _GNU_SOURCE 1
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QS_FUZZ_REPLAY 1
#include "../fuzz/fuzz_gguf.c"
#include "../fuzz/fuzz_npy.c"
#include "../fuzz/fuzz_npz.c"
#include "../fuzz/fuzz_safetensors.c"
#include "tap.h"

#ifndef QS_FUZZ_DIR
#define QS_FUZZ_DIR "tests/fuzz"
#endif

static const struct {
	const char *name;
	int (*run)(const uint8_t *, size_t);
} readers[] = {
    {"npy", fuzz_npy},
    {"npz", fuzz_npz},
    {"safetensors", fuzz_safetensors},
    {"gguf", fuzz_gguf},
};

/* Run every file of QS_FUZZ_DIR/sub/name; the count, or -1. */
static int replay(const char *sub, int r)
{
	char d[512];
	snprintf(d, sizeof d, "%s/%s/%s", QS_FUZZ_DIR, sub, readers[r].name);
	DIR *dp = opendir(d);
	if (!dp)
		return 0; /* no regression inputs yet */
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof p, "%s/%s", d, e->d_name);
		FILE *f = fopen(p, "rb");
		if (!f)
			continue;
		uint8_t *buf = malloc(1 << 20);
		size_t len = fread(buf, 1, 1 << 20, f);
		fclose(f);
		readers[r].run(buf, len);
		free(buf);
		n++;
	}
	closedir(dp);
	return n;
}

int main(void)
{
	int nr = (int)(sizeof readers / sizeof readers[0]);
	tap_plan(2 * nr);
	for (int r = 0; r < nr; r++) {
		int c = replay("corpus", r);
		ok(c > 0, "%s: %d seed inputs replayed", readers[r].name, c);
		int g = replay("regress", r);
		ok(g >= 0, "%s: %d regression inputs replayed", readers[r].name,
		   g);
	}
	return tap_done();
}
