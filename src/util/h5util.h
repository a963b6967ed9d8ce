/* Small HDF5 helpers shared by every HDF5 reader and writer (checkpoints,
 * spike logs, NIR graphs, hardware reports, HDF5 datasets).
 *
 * Every fallible function returns a stdbp_status and, on failure, leaves
 * in err (which may be NULL) a message that says what failed and where
 * (the attribute and the object path, "attribute kind of /model/layer00")
 * followed by HDF5's most specific error text; the HDF5 error stack is
 * cleared. Callers prefix the file ("checkpoint x.h5: "). Writes fail
 * with STDBP_EIO, reads of a missing or malformed object with
 * STDBP_EFORMAT. None prints anything.
 *
 * Strings are stored as fixed-length, NUL-padded ASCII/UTF-8 (h5py reads
 * them as bytes: .decode()). Not collective by themselves; in a file
 * opened with the MPI-IO driver, every rank must make the same calls with
 * the same values (attributes are metadata). */
#ifndef STDBP_UTIL_H5UTIL_H
#define STDBP_UTIL_H5UTIL_H

#include "stdbp/error.h"

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

/* An HDF5 call failed: err gets code and "<fmt>: <HDF5's message>" (the
 * stack is cleared). Returns code. The arguments must not call HDF5:
 * every HDF5 call clears its error stack. */
stdbp_status stdbp_h5_fail(stdbp_err *err, stdbp_status code, const char *fmt, ...)
    STDBP_PRINTF(3, 4);

/* The path of obj in its file ("/model/layer00"; "/" for a file) into
 * buf, for messages. Returns buf. */
const char *stdbp_h5_name(hid_t obj, char *buf, size_t len);

/* A string type (to H5Tclose) of size bytes (H5T_VARIABLE: variable
 * length; 0 is taken as 1), padding pad and character set cset. */
stdbp_status stdbp_h5_str_type(size_t size, H5T_str_t pad, H5T_cset_t cset, hid_t *out,
                               stdbp_err *err);

/* Attributes on a file, group or dataset (created, or overwritten).
 * The general form: file type ftype, shape dims[rank] (rank 0: a
 * scalar), data in memory type mtype. */
stdbp_status stdbp_h5_attr_put(hid_t obj, const char *name, hid_t ftype, hid_t mtype, int rank,
                               const hsize_t *dims, const void *data, stdbp_err *err);
/* A scalar string of fixed length: strlen(value) bytes with
 * H5T_STR_NULLPAD (at least 1), strlen(value) + 1 with H5T_STR_NULLTERM. */
stdbp_status stdbp_h5_attr_put_str_as(hid_t obj, const char *name, const char *value, H5T_str_t pad,
                                      H5T_cset_t cset, stdbp_err *err);
/* The same, NUL-padded ASCII. */
stdbp_status stdbp_h5_attr_put_str(hid_t obj, const char *name, const char *value, stdbp_err *err);
/* n strings as one fixed-length string array attribute. */
stdbp_status stdbp_h5_attr_put_strv(hid_t obj, const char *name, const char *const *values,
                                    size_t n, stdbp_err *err);
stdbp_status stdbp_h5_attr_put_u64(hid_t obj, const char *name, uint64_t value, stdbp_err *err);
stdbp_status stdbp_h5_attr_put_i64(hid_t obj, const char *name, int64_t value, stdbp_err *err);
stdbp_status stdbp_h5_attr_put_f64(hid_t obj, const char *name, double value, stdbp_err *err);
stdbp_status stdbp_h5_attr_put_i32(hid_t obj, const char *name, int32_t value, stdbp_err *err);
stdbp_status stdbp_h5_attr_put_i32v(hid_t obj, const char *name, const int32_t *values, size_t n,
                                    stdbp_err *err);
/* A rows x cols matrix (C order). */
stdbp_status stdbp_h5_attr_put_i32m(hid_t obj, const char *name, const int32_t *values, size_t rows,
                                    size_t cols, stdbp_err *err);
stdbp_status stdbp_h5_attr_put_u64v(hid_t obj, const char *name, const uint64_t *values, size_t n,
                                    stdbp_err *err);

/* Readers: STDBP_EFORMAT if the attribute is missing or of the wrong
 * class or size. Strings: NUL-terminated into buf, which must hold it.
 * Arrays: the attribute must hold exactly n values. */
stdbp_status stdbp_h5_attr_get_str(hid_t obj, const char *name, char *buf, size_t len,
                                   stdbp_err *err);
stdbp_status stdbp_h5_attr_get_u64(hid_t obj, const char *name, uint64_t *value, stdbp_err *err);
stdbp_status stdbp_h5_attr_get_i64(hid_t obj, const char *name, int64_t *value, stdbp_err *err);
stdbp_status stdbp_h5_attr_get_f64(hid_t obj, const char *name, double *value, stdbp_err *err);
stdbp_status stdbp_h5_attr_get_i32(hid_t obj, const char *name, int32_t *value, stdbp_err *err);
stdbp_status stdbp_h5_attr_get_i32v(hid_t obj, const char *name, int32_t *values, size_t n,
                                    stdbp_err *err);
stdbp_status stdbp_h5_attr_get_u64v(hid_t obj, const char *name, uint64_t *values, size_t n,
                                    stdbp_err *err);

/* A dataset of file type ftype and shape dims[rank] (rank 0: a scalar)
 * with HDF5's default creation list (contiguous, no filters), written
 * from data in memory type mtype (nothing is written when it has no
 * elements). */
stdbp_status stdbp_h5_dset_put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                               const hsize_t *dims, const void *data, stdbp_err *err);
/* The same for variable-length UTF-8 strings (h5py.string_dtype()). */
stdbp_status stdbp_h5_dset_put_vlen_strs(hid_t loc, const char *name, int rank, const hsize_t *dims,
                                         const char *const *values, stdbp_err *err);

/* A dataset creation list into *out (to H5Pclose): chunked with chunks of
 * at most about target_bytes (whole trailing rows, splitting the leading
 * dimensions first, into chunks of even size), with Fletcher32 if
 * fletcher32, the shuffle filter and deflate at level `deflate` if
 * deflate > 0. A dataset with a zero dimension gets a plain contiguous
 * layout (nothing to check or compress). */
stdbp_status stdbp_h5_dcpl(int rank, const hsize_t *dims, size_t elem_size, size_t target_bytes,
                           int fletcher32, int deflate, hid_t *out, stdbp_err *err);

/* A collective-transfer property list (H5FD_MPIO_COLLECTIVE) into *out. */
stdbp_status stdbp_h5_dxpl_collective(hid_t *out, stdbp_err *err);

/* Does the path (absolute in the file, e.g. "/optimizer/state", or
 * relative to loc) exist? *exists is 1 or 0 (also when a parent group is
 * missing). */
stdbp_status stdbp_h5_exists(hid_t loc, const char *path, int *exists, stdbp_err *err);

/* Are all the values of dataset d of file f in the file, before anything
 * is allocated for them? (A header may declare any shape, and HDF5 reads
 * what was never written as the fill value; it also reads past the
 * buffer of a compact dataset smaller than its shape.) need is their
 * size in bytes as stored without compression. Contiguous and compact:
 * at least need bytes stored; chunked: every chunk written (and, without
 * filters, need bytes); any layout: no more stored than the file's size.
 * 1 yes, 0 no, -1 when HDF5 cannot tell. *stored and *fsize (may be NULL)
 * get the bytes stored (at most the file's size) and the file's size. */
int stdbp_h5_dset_complete(hid_t f, hid_t d, uint64_t need, uint64_t *stored, uint64_t *fsize);

#endif
