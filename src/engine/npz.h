/* npz: NumPy .npz archives (numpy.savez / savez_compressed): a zip file of
 * .npy members, stored or deflated, read through libzip.
 *
 * Listing reads each member's .npy header only (a few hundred bytes
 * decompressed per member).  Loading streams one member and keeps only
 * the selected part; it never decompresses more than the .npy header
 * declares, and refuses a header declaring more data than the member's
 * size in the zip directory before allocating anything, so a zip bomb
 * costs at most the memory of the part asked for.  Members in Fortran
 * order are read whole, then the part is taken.
 * Pure C11 + libzip; no printing. */
#ifndef QS_ENGINE_NPZ_H
#define QS_ENGINE_NPZ_H

#include "file.h"
#include "qs_error.h"
#include "tensor.h"

/* List the .npy members (names without ".npy"; other members are
 * skipped).  Errors name the archive and the member. */
qs_file_listing *qs_npz_list(const char *path, qs_error *err);

/* Load member `name` (with or without ".npy"; NULL: the only member)
 * restricted to sel (NULL: all); see qs_file_load.  The tensor is named
 * "path:name". */
qs_tensor *qs_npz_load(const char *path, const char *name, const qs_select *sel,
		       qs_error *err);

#endif
