/* libFuzzer harness: the GGUF reader (metadata, tensor table, parts). */
#include "config.h"

#include "fuzz_common.h"

static qs_file_listing *gguf_list(const char *path, qs_error *err)
{
	return qs_file_list(path, err);
}

static qs_tensor *gguf_load(const char *path, const char *name,
			    const qs_select *sel, qs_error *err)
{
	return qs_file_load(path, name, sel, err);
}

static int fuzz_gguf(const uint8_t *data, size_t size)
{
	fuzz_listed(gguf_list, gguf_load, fuzz_file(data, size));
	return 0;
}

#ifndef QS_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_gguf(data, size);
}
#endif
