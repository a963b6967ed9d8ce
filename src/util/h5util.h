/* Small HDF5 helpers shared by the checkpoint and spike-log writers.
 *
 * Every function returns 0 on success and -1 on failure (with the HDF5
 * error stack left for stdbp_h5_error to read); none prints anything. Strings
 * are stored as fixed-length, NUL-padded ASCII/UTF-8 (h5py reads them as
 * bytes: .decode()). Not collective by themselves; in a file opened with
 * the MPI-IO driver, every rank must make the same calls with the same
 * values (attributes are metadata). */
#ifndef STDBP_UTIL_H5UTIL_H
#define STDBP_UTIL_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* Silence HDF5's automatic error-stack printing for the duration of a
 * library call, and restore the caller's handler afterwards. */
typedef struct stdbp_h5_quiet {
    H5E_auto2_t func;
    void *data;
} stdbp_h5_quiet;
void stdbp_h5_quiet_begin(stdbp_h5_quiet *q);
void stdbp_h5_quiet_end(const stdbp_h5_quiet *q);

/* The most specific message on the current HDF5 error stack ("data error
 * detected by Fletcher32 checksum", "truncated file: eof = ...") into buf,
 * or "no detail from HDF5"; clears the stack. Returns buf. */
const char *stdbp_h5_error(char *buf, size_t len);

/* Attributes on a file, group or dataset (created, or overwritten). */
int stdbp_h5_attr_put_str(hid_t obj, const char *name, const char *value);
/* n strings as one fixed-length string array attribute. */
int stdbp_h5_attr_put_strv(hid_t obj, const char *name, const char *const *values, size_t n);
int stdbp_h5_attr_put_u64(hid_t obj, const char *name, uint64_t value);
int stdbp_h5_attr_put_i64(hid_t obj, const char *name, int64_t value);
int stdbp_h5_attr_put_f64(hid_t obj, const char *name, double value);
int stdbp_h5_attr_put_i32(hid_t obj, const char *name, int32_t value);
int stdbp_h5_attr_put_i32v(hid_t obj, const char *name, const int32_t *values, size_t n);
/* A rows x cols matrix (C order). */
int stdbp_h5_attr_put_i32m(hid_t obj, const char *name, const int32_t *values, size_t rows,
                           size_t cols);
int stdbp_h5_attr_put_u64v(hid_t obj, const char *name, const uint64_t *values, size_t n);

/* Readers: -1 if the attribute is missing or of the wrong class or size.
 * Strings: NUL-terminated into buf; -1 if it does not fit. Arrays: the
 * attribute must hold exactly n values. */
int stdbp_h5_attr_get_str(hid_t obj, const char *name, char *buf, size_t len);
int stdbp_h5_attr_get_u64(hid_t obj, const char *name, uint64_t *value);
int stdbp_h5_attr_get_i64(hid_t obj, const char *name, int64_t *value);
int stdbp_h5_attr_get_f64(hid_t obj, const char *name, double *value);
int stdbp_h5_attr_get_i32(hid_t obj, const char *name, int32_t *value);
int stdbp_h5_attr_get_i32v(hid_t obj, const char *name, int32_t *values, size_t n);
int stdbp_h5_attr_get_u64v(hid_t obj, const char *name, uint64_t *values, size_t n);

/* A dataset creation list: chunked with chunks of at most about
 * target_bytes (whole trailing rows, splitting the leading dimensions
 * first, into chunks of even size), with
 * Fletcher32 if fletcher32, the shuffle filter and deflate at level
 * `deflate` if deflate > 0. A dataset with a zero dimension gets a plain
 * contiguous layout (nothing to check or compress). Returns a property
 * list to H5Pclose, or H5I_INVALID_HID. */
hid_t stdbp_h5_dcpl(int rank, const hsize_t *dims, size_t elem_size, size_t target_bytes,
                    int fletcher32, int deflate);

/* Collective-transfer property list (H5FD_MPIO_COLLECTIVE), or
 * H5I_INVALID_HID. */
hid_t stdbp_h5_dxpl_collective(void);

/* Does the path (absolute in the file, e.g. "/optimizer/state") exist?
 * 1 yes, 0 no (also when a parent group is missing), -1 on error. */
int stdbp_h5_exists(hid_t file, const char *path);

#endif
