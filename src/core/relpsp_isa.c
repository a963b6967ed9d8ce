/* Picking the ReL-PSP kernels' instruction set (relpsp_isa.h). */
#include "core/relpsp_isa.h"

#include <string.h>

#include "stdbp/net.h"

/* -1: automatic. Written only by stdbp_relpsp_force_isa (tests). */
static int forced = -1;

int stdbp_relpsp_isa_available(stdbp_isa isa)
{
    switch (isa) {
    case STDBP_ISA_GENERIC:
        return 1;
#ifdef STDBP_X86_SIMD
    case STDBP_ISA_AVX2:
        return __builtin_cpu_supports("avx2");
    case STDBP_ISA_AVX512:
        return __builtin_cpu_supports("avx512f");
#endif
    default:
        return 0;
    }
}

stdbp_isa stdbp_relpsp_isa(void)
{
    if (forced >= 0)
        return (stdbp_isa)forced;
    if (stdbp_relpsp_isa_available(STDBP_ISA_AVX512))
        return STDBP_ISA_AVX512;
    if (stdbp_relpsp_isa_available(STDBP_ISA_AVX2))
        return STDBP_ISA_AVX2;
    return STDBP_ISA_GENERIC;
}

void stdbp_relpsp_force_isa(stdbp_isa isa)
{
    forced = isa == STDBP_ISA_BEST ? -1 : (int)isa;
}

const char *stdbp_isa_name(stdbp_isa isa)
{
    switch (isa) {
    case STDBP_ISA_AVX2:
        return "avx2";
    case STDBP_ISA_AVX512:
        return "avx512";
    default:
        return "generic";
    }
}

const char *stdbp_kernels_isa(void)
{
    return stdbp_isa_name(stdbp_relpsp_isa());
}

stdbp_status stdbp_kernels_select(const char *name, stdbp_err *err)
{
    static const stdbp_isa all[] = {STDBP_ISA_GENERIC, STDBP_ISA_AVX2, STDBP_ISA_AVX512};
    if (name && !strcmp(name, "best")) {
        stdbp_relpsp_force_isa(STDBP_ISA_BEST);
        return STDBP_OK;
    }
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, stdbp_isa_name(all[i])))
            continue;
        if (!stdbp_relpsp_isa_available(all[i]))
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "kernels '%s': this CPU or build cannot run them (it runs '%s')",
                                 name, stdbp_kernels_isa());
        stdbp_relpsp_force_isa(all[i]);
        return STDBP_OK;
    }
    return stdbp_err_set(err, STDBP_EINVAL,
                         "kernels '%s': unknown; use best, avx512, avx2 or generic",
                         name ? name : "(null)");
}
