/* parallel: thread count of the engine's OpenMP passes. */
#include "config.h"
#include "parallel.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void qs_threads_set(int n)
{
#ifdef _OPENMP
	omp_set_num_threads(n >= 1 ? n : omp_get_num_procs());
#else
	(void)n;
#endif
}

int qs_threads_get(void)
{
#ifdef _OPENMP
	return omp_get_max_threads();
#else
	return 1;
#endif
}

int qs_threads_max(void)
{
#ifdef _OPENMP
	return omp_get_num_procs();
#else
	return 1;
#endif
}
