/* sleeve/tap.h: the TAP device through which the sleeve exchanges frames with the bridge. */
#ifndef MESH_SLEEVE_TAP_H
#define MESH_SLEEVE_TAP_H

#include <net/if.h>

/* Opens (creating) TAP `name`, non-blocking, without packet info. Returns the fd or -errno;
 * the kernel deletes the device when the fd is closed. */
int sleeve_tap_open(const char *name);

#endif
