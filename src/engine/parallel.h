/* parallel: the engine's thread count.  Every pass cuts its work into
 * fixed chunks and merges partial results in chunk order, so results do not
 * depend on this number (docs/architecture.md). */
#ifndef QS_ENGINE_PARALLEL_H
#define QS_ENGINE_PARALLEL_H

/* Threads used by engine passes: n >= 1, or 0 for all processors (the
 * OpenMP default).  Without OpenMP the engine is single-threaded and this
 * has no effect. */
void qs_threads_set(int n);
/* Threads the next pass will use. */
int qs_threads_get(void);
/* Processors available. */
int qs_threads_max(void);

#endif
