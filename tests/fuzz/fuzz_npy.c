/* libFuzzer harness: the .npy reader (qs_npy_parse on the bytes, then
 * qs_npy_load and the part loader of file.c on a file). */
#include "config.h"

#include "fuzz_common.h"

static qs_tensor *npy_loader(const char *path, const char *name,
			     const qs_select *sel, qs_error *err)
{
	(void)name;
	return qs_file_load(path, NULL, sel, err);
}

static int fuzz_npy(const uint8_t *data, size_t size)
{
	qs_error err;
	qs_npy_info info;
	(void)qs_npy_read_header(data, size, "fuzz.npy", &info, &err);
	fuzz_touch(qs_npy_parse(data, size, "fuzz.npy", &err));
	const char *p = fuzz_file(data, size);
	fuzz_touch(qs_npy_load(p, &err));
	fuzz_parts(npy_loader, p, NULL);
	return 0;
}

#ifndef QS_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_npy(data, size);
}
#endif
