/* cni/ipam.h: delegation to a standard IPAM plugin as the CNI spec describes it: find the
 * executable named by ipam.type in CNI_PATH, run it with the same environment (CNI_COMMAND
 * included) and the same network config on stdin, and collect its result or error. */
#ifndef MESH_CNI_IPAM_H
#define MESH_CNI_IPAM_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "cni/config.h"

/* Runs the IPAM plugin for command ("ADD", "DEL", "CHECK"). On success 0 and, when out is not
 * NULL, the parsed stdout (NULL when it printed nothing). On failure -1 with *err: the plugin's
 * own error object when it printed one, else why it could not run. */
int cni_ipam_exec(const struct cni_config *cfg, const char *command, const char *stdin_data,
		  size_t stdin_len, cJSON **out, struct cni_error *err);

#endif
