/* STDBP_API marks the declarations that libstdbp exports. The library is
 * built with hidden visibility (-fvisibility=hidden), so a function that
 * lacks it stays internal: only what the public headers declare with it
 * becomes the shared library's ABI. */
#ifndef STDBP_API_H
#define STDBP_API_H

#if defined(__GNUC__) && defined(STDBP_BUILDING_LIBRARY)
#define STDBP_API __attribute__((__visibility__("default")))
#else
#define STDBP_API
#endif

#endif
