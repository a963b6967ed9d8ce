/* Event data sets (private to src/data): what the three readers share. */
#ifndef STDBP_DATA_EVENTS_IMPL_H
#define STDBP_DATA_EVENTS_IMPL_H

#include "stdbp/data.h"

/* After a reader has filled ds (n, shape, dim, labels, ev_off, ev_t,
 * ev_ch, all checked): sorts each sample's events by (time, channel) and
 * sets n_classes. STDBP_ENOMEM. */
stdbp_status stdbp_events_finish(stdbp_dataset *ds, const char *path, stdbp_err *err);

/* Checks one event: time finite and >= 0, channel < dim; the message
 * names path and where ("/times[17]", "sample 3, event 5"). */
stdbp_status stdbp_event_check(double t, uint64_t ch, size_t dim, const char *path,
                               const char *where, stdbp_err *err);

#endif
