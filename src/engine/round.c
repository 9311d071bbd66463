/* round: scalar rounding rules and the counter-based uniform generator.
 * The vectorized kernels in quant.c inline the same rules. */
#include "config.h"
#include "round.h"

#include <math.h>
#include <string.h>

static const char *const names[QS_ROUND_COUNT] = {
	"nearest", "away", "up", "floor", "ceil", "trunc", "stochastic",
};

const char *qs_rounding_name(qs_rounding r)
{
	return (unsigned)r < QS_ROUND_COUNT ? names[r] : NULL;
}

int qs_rounding_parse(const char *name, qs_rounding *out)
{
	for (int i = 0; i < QS_ROUND_COUNT; i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (qs_rounding)i;
			return 0;
		}
	return -1;
}

float qs_rand_u01(uint64_t seed, uint64_t index)
{
	/* SplitMix64 finalizer over a Weyl sequence position. */
	uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return (float)(z >> 40) * 0x1p-24f;
}

float qs_round1(float v, qs_rounding r, uint64_t seed, uint64_t index)
{
	float f = floorf(v);
	float d = v - f; /* exact: |v| < 2^23 or v integral */
	switch (r) {
	case QS_ROUND_NEAREST:
		return nearbyintf(v);
	case QS_ROUND_AWAY:
		return (d > 0.5f || (d == 0.5f && f >= 0.0f)) ? f + 1.0f : f;
	case QS_ROUND_UP:
		return d >= 0.5f ? f + 1.0f : f;
	case QS_ROUND_FLOOR:
		return f;
	case QS_ROUND_CEIL:
		return d > 0.0f ? f + 1.0f : f;
	case QS_ROUND_TRUNC:
		return (v < 0.0f && d > 0.0f) ? f + 1.0f : f;
	case QS_ROUND_STOCHASTIC:
		return qs_rand_u01(seed, index) < d ? f + 1.0f : f;
	default:
		return nearbyintf(v);
	}
}
