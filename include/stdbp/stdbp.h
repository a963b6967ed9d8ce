/* stdbp: deep spiking networks of ReL-PSP neurons trained with exact
 * spike-timing-dependent back-propagation, data-parallel on MPI.
 * One header per concern; this one includes them all (for programs;
 * library modules include only the headers they need). */
#ifndef STDBP_STDBP_H
#define STDBP_STDBP_H

#include "stdbp/api.h"
#include "stdbp/version.h"
#include "stdbp/error.h"
#include "stdbp/rng.h"
#include "stdbp/neuron.h"
#include "stdbp/net.h"
#include "stdbp/loss.h"
#include "stdbp/optim.h"
#include "stdbp/data.h"
#include "stdbp/config.h"
#include "stdbp/dist.h"
#include "stdbp/ckpt.h"
#include "stdbp/train.h"
#include "stdbp/hw.h"
#include "stdbp/nir.h"
#include "stdbp/sweep.h"

#endif
