/* tests/unit/test_metrics.c: the status JSON as Prometheus text (router/metrics.c): exact
 * sample lines for a hand-made status object, HELP/TYPE before every family, label escaping,
 * fields missing from the status. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/metrics.h"

/* A status object shaped as router/status.c builds it. */
static const char *const status_json =
	"{\"version\":\"0.1.0\",\"protocol\":1,\"name\":\"be:55:c2:f5:92:6f\",\"nickname\":\"h1\","
	"\"uid\":\"d9ce101b14505712\",\"short_id\":2655,\"encryption\":true,\"port\":6783,"
	"\"bridge\":\"mesh\",\"mtu\":1412,\"discovery\":true,\"started\":1795751057,"
	"\"peers\":["
	" {\"name\":\"be:55:c2:f5:92:6f\",\"nickname\":\"h1\",\"reachable\":true,\"hops\":0,"
	"  \"connections\":[]},"
	" {\"name\":\"ce:f9:6a:e9:f7:28\",\"nickname\":\"h2\",\"reachable\":true,\"hops\":1,"
	"  \"connections\":[]},"
	" {\"name\":\"16:47:85:7c:0a:e4\",\"nickname\":\"h3\",\"reachable\":false,\"hops\":null,"
	"  \"connections\":[]}],"
	"\"connections\":["
	" {\"peer\":\"ce:f9:6a:e9:f7:28\",\"address\":\"198.18.0.2:6783\",\"direction\":\"inbound\","
	"  \"state\":\"established\",\"overlay\":\"sleeve\",\"encrypted\":true},"
	" {\"peer\":\"16:47:85:7c:0a:e4\",\"address\":\"198.18.0.3:6783\",\"direction\":\"outbound\","
	"  \"state\":\"established\",\"overlay\":\"sleeve\",\"encrypted\":true},"
	" {\"peer\":null,\"address\":\"198.18.0.4:6783\",\"direction\":\"outbound\","
	"  \"state\":\"connecting\",\"overlay\":null,\"encrypted\":true},"
	" {\"peer\":\"aa:aa:aa:aa:aa:aa\",\"address\":\"198.18.0.5:6783\",\"direction\":\"inbound\","
	"  \"state\":\"established\",\"overlay\":\"fastdp\",\"encrypted\":false}],"
	"\"targets\":["
	" {\"address\":\"198.18.0.3:6783\",\"state\":\"established\",\"attempts\":1},"
	" {\"address\":\"198.18.0.9:6783\",\"state\":\"retry-wait\",\"attempts\":4,"
	"  \"last_error\":\"connect: No route to host\",\"next_retry\":1795751100},"
	" {\"address\":\"198.18.0.8:6783\",\"state\":\"retry-wait\",\"attempts\":2}],"
	"\"counters\":{"
	" \"sleeve_rx_datagrams\":50,\"sleeve_tx_datagrams\":42,"
	" \"sleeve_rx_frames\":42,\"sleeve_tx_frames\":33,"
	" \"sleeve_rx_bytes\":5208,\"sleeve_tx_bytes\":4132,"
	" \"sleeve_drop_replay\":1,\"sleeve_drop_auth\":2,\"sleeve_drop_malformed\":3,"
	" \"sleeve_drop_unknown_conn\":4,\"sleeve_drop_tx_full\":5,\"sleeve_drop_mtu\":6,"
	" \"sleeve_drop_tap\":7,\"sleeve_drop_offload\":12,\"drop_no_route\":8,"
	" \"frames_delivered\":40,\"frames_relayed\":5,"
	" \"control_auth_failures\":9,\"control_refused\":10,"
	" \"gossip_tx_bytes\":893,\"gossip_rx_bytes\":1291,\"gossip_refused\":11,"
	" \"control_refused_unauth\":13,\"control_refused_limit\":14,\"control_hs_timeouts\":15,"
	" \"control_slow_peers\":16,\"mac_refused_full\":17,\"mac_refused_peer\":18,"
	" \"mac_refused_port\":19,\"mac_refused_rate\":20,\"ipam_requests_refused\":21,"
	" \"discovery_refused\":22,"
	" \"mac_table_size\":7}}";

static char *render_json(const char *json)
{
	cJSON *st = cJSON_Parse(json);
	cr_assert_not_null(st, "the test's status JSON does not parse");
	char *text = mesh_metrics_render(st);
	cJSON_Delete(st);
	cr_assert_not_null(text);
	return text;
}

/* True when text holds line as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define assert_line(text, line) \
	cr_assert(has_line(text, line), "missing line: %s\n--- output:\n%s", line, text)

Test(metrics, identity_and_peers)
{
	char *t = render_json(status_json);
	assert_line(t, "# HELP mesh_info Identity of this router; always 1.");
	assert_line(t, "# TYPE mesh_info gauge");
	assert_line(t, "mesh_info{version=\"0.1.0\",name=\"be:55:c2:f5:92:6f\",nickname=\"h1\"} 1");
	assert_line(t, "mesh_encryption_enabled 1");
	assert_line(t, "mesh_start_time_seconds 1795751057");
	assert_line(t, "# TYPE mesh_peers gauge");
	assert_line(t, "mesh_peers 3");
	assert_line(t, "mesh_peers_reachable 2");
	free(t);
}

Test(metrics, connections_counted_by_labels)
{
	char *t = render_json(status_json);
	assert_line(t, "# TYPE mesh_connections gauge");
	assert_line(t, "mesh_connections{state=\"established\",overlay=\"sleeve\",encrypted=\"true\"} 2");
	assert_line(t, "mesh_connections{state=\"established\",overlay=\"fastdp\",encrypted=\"false\"} 1");
	assert_line(t, "mesh_connections{state=\"connecting\",overlay=\"none\",encrypted=\"true\"} 1");
	/* sorted by state, overlay, encrypted: connecting before established, fastdp before sleeve */
	const char *a = strstr(t, "mesh_connections{state=\"connecting\"");
	const char *b = strstr(t, "mesh_connections{state=\"established\",overlay=\"fastdp\"");
	const char *c = strstr(t, "mesh_connections{state=\"established\",overlay=\"sleeve\"");
	cr_assert(a && b && c && a < b && b < c);
	assert_line(t, "mesh_targets{state=\"established\"} 1");
	assert_line(t, "mesh_targets{state=\"retry-wait\"} 2");
	free(t);
}

Test(metrics, data_path_counters)
{
	char *t = render_json(status_json);
	assert_line(t, "# TYPE mesh_frames_total counter");
	assert_line(t, "mesh_frames_total{overlay=\"sleeve\",direction=\"tx\"} 33");
	assert_line(t, "mesh_frames_total{overlay=\"sleeve\",direction=\"rx\"} 42");
	assert_line(t, "# TYPE mesh_bytes_total counter");
	assert_line(t, "mesh_bytes_total{overlay=\"sleeve\",direction=\"tx\"} 4132");
	assert_line(t, "mesh_bytes_total{overlay=\"sleeve\",direction=\"rx\"} 5208");
	assert_line(t, "mesh_datagrams_total{overlay=\"sleeve\",direction=\"tx\"} 42");
	assert_line(t, "mesh_datagrams_total{overlay=\"sleeve\",direction=\"rx\"} 50");
	assert_line(t, "mesh_forwarded_frames_total{action=\"delivered\"} 40");
	assert_line(t, "mesh_forwarded_frames_total{action=\"relayed\"} 5");
	assert_line(t, "# TYPE mesh_drops_total counter");
	assert_line(t, "mesh_drops_total{reason=\"replay\"} 1");
	assert_line(t, "mesh_drops_total{reason=\"auth\"} 2");
	assert_line(t, "mesh_drops_total{reason=\"malformed\"} 3");
	assert_line(t, "mesh_drops_total{reason=\"unknown_conn\"} 4");
	assert_line(t, "mesh_drops_total{reason=\"tx_full\"} 5");
	assert_line(t, "mesh_drops_total{reason=\"mtu\"} 6");
	assert_line(t, "mesh_drops_total{reason=\"tap\"} 7");
	assert_line(t, "mesh_drops_total{reason=\"offload\"} 12");
	assert_line(t, "mesh_drops_total{reason=\"no_route\"} 8");
	assert_line(t, "# TYPE mesh_mac_table_entries gauge");
	assert_line(t, "mesh_mac_table_entries 7");
	assert_line(t, "# TYPE mesh_fastdp_flows gauge");
	assert_line(t, "mesh_fastdp_flows 0");
	free(t);
}

Test(metrics, control_plane_counters)
{
	char *t = render_json(status_json);
	assert_line(t, "# TYPE mesh_gossip_bytes_total counter");
	assert_line(t, "mesh_gossip_bytes_total{direction=\"tx\"} 893");
	assert_line(t, "mesh_gossip_bytes_total{direction=\"rx\"} 1291");
	assert_line(t, "mesh_gossip_refused_total 11");
	assert_line(t, "# TYPE mesh_control_auth_failures_total counter");
	assert_line(t, "mesh_control_auth_failures_total 9");
	assert_line(t, "mesh_control_refused_total 10");
	free(t);
}

/* Issue 16: what the limits against hostile peers refused, by reason. */
Test(metrics, hostile_peer_limits)
{
	char *t = render_json(status_json);
	assert_line(t, "# TYPE mesh_control_limited_total counter");
	assert_line(t, "mesh_control_limited_total{reason=\"unauthenticated_budget\"} 13");
	assert_line(t, "mesh_control_limited_total{reason=\"conn_limit\"} 14");
	assert_line(t, "mesh_control_limited_total{reason=\"handshake_deadline\"} 15");
	assert_line(t, "mesh_control_limited_total{reason=\"peer_not_reading\"} 16");
	assert_line(t, "mesh_mac_refused_total{reason=\"table_full\"} 17");
	assert_line(t, "mesh_mac_refused_total{reason=\"peer_limit\"} 18");
	assert_line(t, "mesh_mac_refused_total{reason=\"port_limit\"} 19");
	assert_line(t, "mesh_mac_refused_total{reason=\"learning_rate\"} 20");
	assert_line(t, "mesh_ipam_requests_refused_total 21");
	assert_line(t, "mesh_discovery_refused_total 22");
	free(t);
}

/* Every sample follows the HELP and TYPE lines of its family; a family appears once; counters
 * end in _total; the text ends with a newline. */
Test(metrics, well_formed)
{
	char *t = render_json(status_json);
	char *copy = strdup(t), *save = NULL;
	char families[64][64];
	int nfam = 0;
	char help_for[64] = "", type_for[64] = "", type[16] = "";
	size_t len = strlen(t);
	cr_assert_gt(len, 0);
	cr_assert_eq(t[len - 1], '\n');
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		if (!strncmp(line, "# HELP ", 7)) {
			cr_assert_eq(sscanf(line + 7, "%63s", help_for), 1);
			for (int i = 0; i < nfam; i++)
				cr_assert_str_neq(families[i], help_for, "family %s twice", help_for);
			cr_assert_lt(nfam, 64);
			snprintf(families[nfam++], sizeof(families[0]), "%s", help_for);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			cr_assert_eq(sscanf(line + 7, "%63s %15s", type_for, type), 2);
			cr_assert_str_eq(type_for, help_for, "TYPE %s not after its HELP", type_for);
			cr_assert(!strcmp(type, "counter") || !strcmp(type, "gauge"), "type %s", type);
			if (!strcmp(type, "counter"))
				cr_assert(strlen(type_for) > 6 &&
					  !strcmp(type_for + strlen(type_for) - 6, "_total"),
					  "counter %s does not end in _total", type_for);
			continue;
		}
		cr_assert_neq(line[0], '#', "stray comment: %s", line);
		size_t n = strcspn(line, "{ ");
		cr_assert_lt(n, sizeof(name));
		memcpy(name, line, n);
		name[n] = '\0';
		cr_assert_str_eq(name, type_for, "sample %s outside its family (%s)", line, type_for);
		cr_assert(!strncmp(name, "mesh_", 5));
	}
	free(copy);
	free(t);
}

Test(metrics, label_values_escaped)
{
	cJSON *st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "version", "1.0");
	cJSON_AddStringToObject(st, "name", "a\\b");
	cJSON_AddStringToObject(st, "nickname", "q\"uo\nte");
	char *t = mesh_metrics_render(st);
	cr_assert_not_null(t);
	assert_line(t, "mesh_info{version=\"1.0\",name=\"a\\\\b\",nickname=\"q\\\"uo\\nte\"} 1");
	free(t);
	cJSON_Delete(st);
}

/* An empty status (or an older daemon's without counters) still renders; counter families
 * without values are left out, gauges of counts are 0. */
Test(metrics, missing_fields)
{
	char *t = render_json("{}");
	assert_line(t, "mesh_info{version=\"\",name=\"\",nickname=\"\"} 1");
	assert_line(t, "mesh_peers 0");
	assert_line(t, "mesh_fastdp_flows 0");
	assert_line(t, "# TYPE mesh_connections gauge");
	cr_assert_null(strstr(t, "mesh_connections{"));
	cr_assert_null(strstr(t, "mesh_frames_total"));
	cr_assert_null(strstr(t, "mesh_drops_total"));
	cr_assert_null(strstr(t, "mesh_encryption_enabled"));
	free(t);

	t = render_json("{\"counters\":{\"sleeve_drop_mtu\":3,\"fastdp_flows\":12}}");
	assert_line(t, "mesh_drops_total{reason=\"mtu\"} 3");
	cr_assert_null(strstr(t, "reason=\"replay\""));
	assert_line(t, "mesh_fastdp_flows 12");
	free(t);

	t = mesh_metrics_render(NULL);
	cr_assert_not_null(t);
	assert_line(t, "mesh_peers 0");
	free(t);
}

/* Counters past 2^32 and large doubles print exactly, without exponents where integral. */
Test(metrics, big_values)
{
	char *t = render_json("{\"counters\":{\"sleeve_tx_bytes\":123456789012345,"
			      "\"sleeve_rx_bytes\":12345678901234567890}}");
	assert_line(t, "mesh_bytes_total{overlay=\"sleeve\",direction=\"tx\"} 123456789012345");
	assert_line(t, "mesh_bytes_total{overlay=\"sleeve\",direction=\"rx\"} 1.2345678901234567e+19");
	free(t);
}

Test(metrics, network_policy)
{
	char *t = render_json(
		"{\"policy\":{\"enforcing\":true,\"generation\":7,\"applies\":7,\"apply_errors\":1,"
		"\"restores\":2,\"last_apply_ms\":3.5,"
		"\"drops\":{\"total\":11,\"ingress\":5,\"egress\":3,\"pending\":1,\"linklocal\":2},"
		"\"policies\":[{\"namespace\":\"default\",\"name\":\"web\",\"rules\":["
		"{\"direction\":\"ingress\",\"index\":0,\"packets\":12,\"bytes\":720},"
		"{\"direction\":\"egress\",\"index\":1,\"packets\":4,\"bytes\":240}]}]}}");
	assert_line(t, "mesh_policy_enforcing 1");
	assert_line(t, "mesh_policy_applies_total 7");
	assert_line(t, "mesh_policy_apply_errors_total 1");
	assert_line(t, "mesh_policy_restores_total 2");
	assert_line(t, "mesh_policy_last_apply_milliseconds 3.5");
	assert_line(t, "mesh_policy_drops_total{direction=\"ingress\"} 5");
	assert_line(t, "mesh_policy_drops_total{direction=\"pending\"} 1");
	assert_line(t, "mesh_policy_drops_total{direction=\"link-local\"} 2");
	assert_line(t, "# TYPE mesh_policy_rule_packets_total counter");
	assert_line(t, "mesh_policy_rule_packets_total{namespace=\"default\",policy=\"web\","
		       "direction=\"ingress\",rule=\"0\"} 12");
	assert_line(t, "mesh_policy_rule_bytes_total{namespace=\"default\",policy=\"web\","
		       "direction=\"egress\",rule=\"1\"} 240");
	free(t);
	/* no policy object (meshd without Kubernetes): no policy family */
	t = render_json("{}");
	cr_assert_null(strstr(t, "mesh_policy"));
	free(t);
}

Test(metrics, ipam_ranges_of_both_families)
{
	char *t = render_json("{\"ipam\":{\"range\":\"10.40.0.0/16\",\"range6\":\"fd6d:6573:6800::/48\","
			      "\"allocation_count\":3,\"free\":65533}}");
	assert_line(t, "# TYPE mesh_ipam_range_info gauge");
	assert_line(t, "mesh_ipam_range_info{family=\"ipv4\",range=\"10.40.0.0/16\"} 1");
	assert_line(t, "mesh_ipam_range_info{family=\"ipv6\",range=\"fd6d:6573:6800::/48\"} 1");
	assert_line(t, "mesh_ipam_allocations 3");
	assert_line(t, "mesh_ipam_free_addresses 65533");
	free(t);
	/* --ipalloc-range6 off: IPv4 only */
	t = render_json("{\"ipam\":{\"range\":\"10.40.0.0/16\",\"range6\":null,\"allocation_count\":0,"
			"\"free\":65536}}");
	assert_line(t, "mesh_ipam_range_info{family=\"ipv4\",range=\"10.40.0.0/16\"} 1");
	cr_assert_null(strstr(t, "family=\"ipv6\""));
	free(t);
	/* no IPAM (null): no family */
	t = render_json("{\"ipam\":null}");
	cr_assert_null(strstr(t, "mesh_ipam_range_info"));
	free(t);
}
