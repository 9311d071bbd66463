/* libFuzzer harness: the .safetensors reader (header, entries, mapped and
 * gathered parts). */
#include "config.h"

#include "fuzz_common.h"

static int fuzz_safetensors(const uint8_t *data, size_t size)
{
	fuzz_listed(qs_safetensors_list, qs_safetensors_load,
		    fuzz_file(data, size));
	return 0;
}

#ifndef QS_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_safetensors(data, size);
}
#endif
