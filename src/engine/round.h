/* round: the rounding rules of the engine, shared by every format.
 *
 * A rule maps a real value v (already divided by the scale) to an integer
 * or grid point.  Pure C11 + libm; see docs/formats.md for the references.
 */
#ifndef QS_ENGINE_ROUND_H
#define QS_ENGINE_ROUND_H

#include <stdint.h>

typedef enum qs_rounding {
	QS_ROUND_NEAREST = 0, /* ties to even (IEEE, nearbyintf, torch.round) */
	QS_ROUND_AWAY,        /* ties away from zero (C roundf) */
	QS_ROUND_UP,          /* ties toward +inf: floor(v + 0.5) (ggml Q4) */
	QS_ROUND_FLOOR,       /* toward -inf */
	QS_ROUND_CEIL,        /* toward +inf */
	QS_ROUND_TRUNC,       /* toward zero */
	QS_ROUND_STOCHASTIC,  /* up with probability frac(v), keyed by index */
	QS_ROUND_COUNT
} qs_rounding;

/* Name of a rule ("nearest", "away", ...), or NULL if out of range. */
const char *qs_rounding_name(qs_rounding r);

/* Parse a rule name; returns 0 and sets *out, or -1 if unknown. */
int qs_rounding_parse(const char *name, qs_rounding *out);

/* Uniform variate in [0, 1) with 24 random bits, a pure function of
 * (seed, index): the same element gets the same draw whatever the thread
 * count or chunking (counter-based, SplitMix64 finalizer). */
float qs_rand_u01(uint64_t seed, uint64_t index);

/* Round one value with rule r; index and seed are used by the stochastic
 * rule only.  Exact for |v| < 2^23 (larger values are already integers). */
float qs_round1(float v, qs_rounding r, uint64_t seed, uint64_t index);

#endif
