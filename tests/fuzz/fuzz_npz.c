/* libFuzzer harness: the .npz reader (libzip, streamed members, parts). */
#include "config.h"

#include "fuzz_common.h"

static int fuzz_npz(const uint8_t *data, size_t size)
{
	fuzz_listed(qs_npz_list, qs_npz_load, fuzz_file(data, size));
	return 0;
}

#ifndef QS_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_npz(data, size);
}
#endif
