/* SIGTERM / SIGUSR1: ask the training loop to checkpoint and stop.
 * SLURM sends one of them before the time limit (--signal) and on
 * preemption; the loop polls the flag once per step and before each
 * chunk of the end-of-epoch evaluation. */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "stdbp/train.h"
#include "train/trainer_impl.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void stdbp_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

int stdbp_signal_pending(void)
{
    return stop_requested != 0;
}

int stdbp_signal_pending_after(long ms)
{
    for (; ms > 0 && !stdbp_signal_pending(); ms -= 20) {
        struct timespec ts = {0, (ms < 20 ? ms : 20) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return stdbp_signal_pending();
}
