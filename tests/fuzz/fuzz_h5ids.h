/* For the HDF5 harnesses: HDF5 identifiers (files, groups, datasets,
 * attributes, dataspaces, datatypes, property lists) still open after a
 * reader returned are leaks; in a long run they keep files open and
 * memory growing. h5ids_count takes a census, h5ids_check compares two. */
#ifndef FUZZ_H5IDS_H
#define FUZZ_H5IDS_H

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

static const H5I_type_t h5ids_types[7] = {H5I_FILE,      H5I_GROUP,    H5I_DATASET,    H5I_ATTR,
                                          H5I_DATASPACE, H5I_DATATYPE, H5I_GENPROP_LST};
static const char *const h5ids_names[7] = {"files",      "groups",    "datasets",      "attributes",
                                           "dataspaces", "datatypes", "property lists"};

static void h5ids_count(hsize_t n[7])
{
    H5E_auto2_t fn;
    void *data;
    /* A type with no identifier yet is an error to H5Inmembers. */
    H5Eget_auto2(H5E_DEFAULT, &fn, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    for (int i = 0; i < 7; i++)
        if (H5Inmembers(h5ids_types[i], &n[i]) < 0)
            n[i] = 0;
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, fn, data);
}

static void h5ids_check(const hsize_t before[7], const char *after)
{
    hsize_t now[7];
    h5ids_count(now);
    for (int i = 0; i < 7; i++)
        if (now[i] > before[i]) {
            fprintf(stderr, "fuzz: %s left %llu HDF5 %s open\n", after,
                    (unsigned long long)(now[i] - before[i]), h5ids_names[i]);
            abort();
        }
}

#endif
