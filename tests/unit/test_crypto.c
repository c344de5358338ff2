/* tests/unit/test_crypto.c: the crypto module (crypto/psk.c, crypto/session.c, crypto/seal.c,
 * crypto/esp.c): PSK derivation, per-channel session keys, key confirmation, seal/open and the
 * ESP security associations of the encrypted fast path. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/esp.h"
#include "crypto/psk.h"
#include "crypto/seal.h"
#include "crypto/session.h"

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
}

TestSuite(psk, .init = setup);
TestSuite(session, .init = setup);
TestSuite(confirm, .init = setup);
TestSuite(seal, .init = setup);
TestSuite(esp, .init = setup);

/* ---- psk ------------------------------------------------------------------------------ */

Test(psk, deterministic_and_password_dependent)
{
	uint8_t a[MESH_KEY_LEN], b[MESH_KEY_LEN], c[MESH_KEY_LEN], d[MESH_KEY_LEN];

	cr_assert_eq(mesh_psk_derive("hunter2hunter2hunter2", 21, "mesh", a), 0);
	cr_assert_eq(mesh_psk_derive("hunter2hunter2hunter2", 21, "mesh", b), 0);
	cr_assert_eq(memcmp(a, b, MESH_KEY_LEN), 0, "same password, different psk");
	cr_assert_eq(mesh_psk_derive("hunter2hunter2hunter3", 21, "mesh", c), 0);
	cr_assert_neq(memcmp(a, c, MESH_KEY_LEN), 0, "different passwords, same psk");
	/* the length counts, not a NUL terminator */
	cr_assert_eq(mesh_psk_derive("hunter2hunter2hunter2", 20, "mesh", d), 0);
	cr_assert_neq(memcmp(a, d, MESH_KEY_LEN), 0, "prefix gives the same psk");
}

/* Issue 16, finding 9: the mesh name salts the key, so one guess serves one mesh only. */
Test(psk, mesh_name_salts_the_key)
{
	uint8_t a[MESH_KEY_LEN], b[MESH_KEY_LEN], c[MESH_KEY_LEN];
	cr_assert_eq(mesh_psk_derive("correct horse battery", 21, "mesh", a), 0);
	cr_assert_eq(mesh_psk_derive("correct horse battery", 21, "prod-eu", b), 0);
	cr_assert_neq(memcmp(a, b, MESH_KEY_LEN), 0, "another mesh name, the same key");
	cr_assert_eq(mesh_psk_derive("correct horse battery", 21, "prod-e", c), 0);
	cr_assert_neq(memcmp(b, c, MESH_KEY_LEN), 0, "a prefix of the name, the same key");
	cr_assert_eq(mesh_psk_derive("correct horse battery", 21, "", c), -EINVAL);
	cr_assert_eq(mesh_psk_derive("correct horse battery", 21, NULL, c), -EINVAL);
}

/* Issue 16, finding 9: shorter than 16 bytes is refused (guessable offline from a handshake). */
Test(psk, short_password_is_einval)
{
	uint8_t k[MESH_KEY_LEN];
	cr_assert_eq(MESH_PASSWORD_MIN, 16);
	cr_assert_eq(mesh_psk_derive("fifteen-bytes!!", 15, "mesh", k), -EINVAL);
	cr_assert_eq(mesh_psk_derive("sixteen-bytes!!!", 16, "mesh", k), 0);
}

/* Pins the exact construction (Argon2id13, opslimit 4, 8 MiB, salt the 16-byte BLAKE2b of
 * "mesh/psk/v2" NUL mesh-name) so that any change of parameters, which would break
 * interoperability, is noticed. */
Test(psk, matches_the_specified_argon2id_parameters)
{
	static const char pw[] = "correct horse battery staple";
	static const char in[] = "mesh/psk/v2\0mesh";
	uint8_t salt[crypto_pwhash_SALTBYTES];
	uint8_t want[MESH_KEY_LEN], got[MESH_KEY_LEN];

	cr_assert_eq(crypto_generichash(salt, sizeof(salt), (const uint8_t *)in, sizeof(in) - 1,
					NULL, 0), 0);
	cr_assert_eq(crypto_pwhash(want, sizeof(want), pw, strlen(pw), salt, 4, 8u << 20,
				   crypto_pwhash_ALG_ARGON2ID13),
		     0);
	cr_assert_eq(mesh_psk_derive(pw, strlen(pw), "mesh", got), 0);
	cr_assert_eq(memcmp(want, got, MESH_KEY_LEN), 0);
}

Test(psk, password_with_nul_bytes_uses_all_of_len)
{
	uint8_t a[MESH_KEY_LEN], b[MESH_KEY_LEN];
	cr_assert_eq(mesh_psk_derive("ab\0cdefghijklmnopq", 19, "mesh", a), 0);
	cr_assert_eq(mesh_psk_derive("ab\0cdefghijklmnopr", 19, "mesh", b), 0);
	cr_assert_neq(memcmp(a, b, MESH_KEY_LEN), 0);
}

Test(psk, empty_password_is_einval)
{
	uint8_t k[MESH_KEY_LEN];
	cr_assert_eq(mesh_psk_derive("", 0, "mesh", k), -EINVAL);
	cr_assert_eq(mesh_psk_derive("nonempty-nonempty", 0, "mesh", k), -EINVAL);
}

/* ---- session -------------------------------------------------------------------------- */

struct pair {
	struct mesh_kx_keypair ckp, skp;
	struct mesh_session_keys c, s;
};

static void derive_pair(struct pair *p, const uint8_t *psk)
{
	cr_assert_eq(mesh_session_derive(&p->ckp, p->skp.pk, true, psk, &p->c), 0);
	cr_assert_eq(mesh_session_derive(&p->skp, p->ckp.pk, false, psk, &p->s), 0);
}

static void new_pair(struct pair *p, const uint8_t *psk)
{
	mesh_kx_keypair_generate(&p->ckp);
	mesh_kx_keypair_generate(&p->skp);
	cr_assert_neq(memcmp(p->ckp.pk, p->skp.pk, MESH_PUBKEY_LEN), 0);
	derive_pair(p, psk);
}

/* The six keys of one side, in a fixed order: tcp tx/rx, sleeve tx/rx, ipsec tx/rx. */
static const uint8_t *key_at(const struct mesh_session_keys *k, int i)
{
	const struct mesh_dir_keys *d = i / 2 == 0 ? &k->tcp : i / 2 == 1 ? &k->sleeve : &k->ipsec;
	return i % 2 == 0 ? d->tx : d->rx;
}

static const char *const key_name[6] = { "tcp.tx", "tcp.rx", "sleeve.tx", "sleeve.rx", "ipsec.tx",
					 "ipsec.rx" };

static void check_matching(const struct pair *p)
{
	static const uint8_t zero[MESH_KEY_LEN];
	for (int i = 0; i < 6; i++) {
		/* client's tx is server's rx and vice versa: i ^ 1 swaps tx and rx */
		cr_assert_eq(memcmp(key_at(&p->c, i), key_at(&p->s, i ^ 1), MESH_KEY_LEN), 0,
			     "client %s != server %s", key_name[i], key_name[i ^ 1]);
		cr_assert_neq(memcmp(key_at(&p->c, i), zero, MESH_KEY_LEN), 0, "%s is zero",
			      key_name[i]);
	}
}

static void check_distinct(const struct mesh_session_keys *k)
{
	for (int i = 0; i < 6; i++)
		for (int j = i + 1; j < 6; j++)
			cr_assert_neq(memcmp(key_at(k, i), key_at(k, j), MESH_KEY_LEN), 0,
				      "%s == %s", key_name[i], key_name[j]);
}

Test(session, client_and_server_keys_match_with_psk)
{
	uint8_t psk[MESH_KEY_LEN];
	struct pair p;
	memset(psk, 0x5a, sizeof(psk));
	new_pair(&p, psk);
	check_matching(&p);
	check_distinct(&p.c);
	check_distinct(&p.s);
}

Test(session, client_and_server_keys_match_without_psk)
{
	struct pair p;
	new_pair(&p, NULL);
	check_matching(&p);
	check_distinct(&p.c);
	check_distinct(&p.s);
}

Test(session, null_psk_means_all_zero_psk)
{
	static const uint8_t zero[MESH_KEY_LEN];
	struct pair p;
	struct mesh_session_keys k;
	new_pair(&p, NULL);
	cr_assert_eq(mesh_session_derive(&p.ckp, p.skp.pk, true, zero, &k), 0);
	cr_assert_eq(memcmp(&k, &p.c, sizeof(k)), 0);
}

Test(session, different_psk_gives_different_keys)
{
	uint8_t psk_a[MESH_KEY_LEN], psk_b[MESH_KEY_LEN];
	struct pair p;
	struct mesh_session_keys ka;

	memset(psk_a, 0xa1, sizeof(psk_a));
	memcpy(psk_b, psk_a, sizeof(psk_b));
	psk_b[MESH_KEY_LEN - 1] ^= 1;
	new_pair(&p, psk_a);
	ka = p.c;
	derive_pair(&p, psk_b);
	for (int i = 0; i < 6; i++)
		cr_assert_neq(memcmp(key_at(&ka, i), key_at(&p.c, i), MESH_KEY_LEN), 0,
			      "%s unchanged by psk", key_name[i]);

	/* the same ephemeral keys with a psk and without one */
	derive_pair(&p, NULL);
	for (int i = 0; i < 6; i++)
		cr_assert_neq(memcmp(key_at(&ka, i), key_at(&p.c, i), MESH_KEY_LEN), 0);

	/* and with mismatched psks the two sides do not agree on anything */
	cr_assert_eq(mesh_session_derive(&p.ckp, p.skp.pk, true, psk_a, &p.c), 0);
	cr_assert_eq(mesh_session_derive(&p.skp, p.ckp.pk, false, psk_b, &p.s), 0);
	for (int i = 0; i < 6; i++)
		cr_assert_neq(memcmp(key_at(&p.c, i), key_at(&p.s, i ^ 1), MESH_KEY_LEN), 0);
}

Test(session, fresh_ephemeral_keys_give_fresh_session_keys)
{
	struct pair p, q;
	uint8_t psk[MESH_KEY_LEN];
	memset(psk, 7, sizeof(psk));
	new_pair(&p, psk);
	new_pair(&q, psk);
	for (int i = 0; i < 6; i++)
		cr_assert_neq(memcmp(key_at(&p.c, i), key_at(&q.c, i), MESH_KEY_LEN), 0);
}

/* Recomputes the documented construction from crypto_kx and BLAKE2b directly. */
static void expected_key(const uint8_t *psk, const uint8_t kx[32], const uint8_t cpk[32],
			 const uint8_t spk[32], const char *label, uint8_t out[32])
{
	uint8_t msg[96 + 32];
	size_t ll = strlen(label);
	memcpy(msg, kx, 32);
	memcpy(msg + 32, cpk, 32);
	memcpy(msg + 64, spk, 32);
	memcpy(msg + 96, label, ll);
	cr_assert_eq(crypto_generichash(out, 32, msg, 96 + ll, psk, 32), 0);
}

static void check_construction(const uint8_t *psk_or_null)
{
	static const uint8_t zero[MESH_KEY_LEN];
	static const char *const labels[6] = { "mesh tcp c2s",	  "mesh tcp s2c",   "mesh sleeve c2s",
					       "mesh sleeve s2c", "mesh ipsec c2s", "mesh ipsec s2c" };
	const uint8_t *psk = psk_or_null ? psk_or_null : zero;
	struct pair p;
	uint8_t rx[32], tx[32], want[32];

	new_pair(&p, psk_or_null);
	cr_assert_eq(crypto_kx_client_session_keys(rx, tx, p.ckp.pk, p.ckp.sk, p.skp.pk), 0);
	for (int i = 0; i < 6; i++) {
		/* even labels are c2s (client tx, kx key tx), odd ones s2c (client rx, kx key rx) */
		expected_key(psk, i % 2 == 0 ? tx : rx, p.ckp.pk, p.skp.pk, labels[i], want);
		cr_assert_eq(memcmp(want, key_at(&p.c, i), 32), 0, "client %s", key_name[i]);
		cr_assert_eq(memcmp(want, key_at(&p.s, i ^ 1), 32), 0, "server %s",
			     key_name[i ^ 1]);
	}
}

Test(session, keys_follow_the_documented_construction)
{
	uint8_t psk[MESH_KEY_LEN];
	for (int i = 0; i < MESH_KEY_LEN; i++)
		psk[i] = (uint8_t)(i * 37 + 1);
	check_construction(psk);
	check_construction(NULL);
}

Test(session, bad_peer_public_key_is_einval)
{
	struct mesh_kx_keypair kp;
	struct mesh_session_keys k;
	uint8_t bad[MESH_PUBKEY_LEN];
	uint8_t psk[MESH_KEY_LEN];

	memset(psk, 1, sizeof(psk));
	mesh_kx_keypair_generate(&kp);
	/* all-zero and 1 are low-order points: the shared secret would be all zero */
	memset(bad, 0, sizeof(bad));
	cr_assert_eq(mesh_session_derive(&kp, bad, true, psk, &k), -EINVAL);
	cr_assert_eq(mesh_session_derive(&kp, bad, false, psk, &k), -EINVAL);
	bad[0] = 1;
	cr_assert_eq(mesh_session_derive(&kp, bad, true, NULL, &k), -EINVAL);
	cr_assert_eq(mesh_session_derive(&kp, bad, false, NULL, &k), -EINVAL);
}

Test(session, wipe_zeroes)
{
	uint8_t buf[100];
	memset(buf, 0xee, sizeof(buf));
	mesh_wipe(buf + 10, 80);
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], (i < 10 || i >= 90) ? 0xee : 0, "byte %zu", i);
}

/* ---- key confirmation ------------------------------------------------------------------- */

Test(confirm, tags_depend_on_side_psk_and_transcript)
{
	static const uint8_t zero[MESH_KEY_LEN];
	static const uint8_t transcript[] = "MESH\x01\x01 some handshake bytes";
	uint8_t psk_a[MESH_KEY_LEN], psk_b[MESH_KEY_LEN];
	uint8_t tc[MESH_TAG_LEN], ts[MESH_TAG_LEN], tc2[MESH_TAG_LEN], tb[MESH_TAG_LEN];
	uint8_t tn[MESH_TAG_LEN], tz[MESH_TAG_LEN], tt[MESH_TAG_LEN];
	size_t n = sizeof(transcript) - 1;

	memset(psk_a, 0xa1, sizeof(psk_a));
	memset(psk_b, 0xb2, sizeof(psk_b));

	mesh_confirm_tag(psk_a, transcript, n, true, tc);
	mesh_confirm_tag(psk_a, transcript, n, false, ts);
	mesh_confirm_tag(psk_a, transcript, n, true, tc2);
	mesh_confirm_tag(psk_b, transcript, n, true, tb);
	mesh_confirm_tag(NULL, transcript, n, true, tn);
	mesh_confirm_tag(zero, transcript, n, true, tz);
	mesh_confirm_tag(psk_a, transcript, n - 1, true, tt);

	cr_assert(mesh_tag_equal(tc, tc2), "not deterministic");
	cr_assert_not(mesh_tag_equal(tc, ts), "client and server tags equal (reflectable)");
	cr_assert_not(mesh_tag_equal(tc, tb), "psk does not matter");
	cr_assert_not(mesh_tag_equal(tc, tn), "psk vs no psk");
	cr_assert(mesh_tag_equal(tn, tz), "NULL psk is not the zero psk");
	cr_assert_not(mesh_tag_equal(tc, tt), "transcript does not matter");
}

Test(confirm, matches_the_documented_construction)
{
	static const uint8_t transcript[] = { 1, 2, 3, 4, 5 };
	uint8_t psk[MESH_KEY_LEN], msg[64], want[MESH_TAG_LEN], got[MESH_TAG_LEN];
	const char *labels[2] = { "mesh confirm server", "mesh confirm client" };

	memset(psk, 0x33, sizeof(psk));
	for (int side = 0; side < 2; side++) {
		size_t ll = strlen(labels[side]);
		memcpy(msg, labels[side], ll);
		memcpy(msg + ll, transcript, sizeof(transcript));
		crypto_generichash(want, sizeof(want), msg, ll + sizeof(transcript), psk, sizeof(psk));
		mesh_confirm_tag(psk, transcript, sizeof(transcript), side == 1, got);
		cr_assert_eq(memcmp(want, got, MESH_TAG_LEN), 0, "%s", labels[side]);
	}
	/* an empty transcript is fine too */
	crypto_generichash(want, sizeof(want), (const uint8_t *)labels[1], strlen(labels[1]), psk,
			   sizeof(psk));
	mesh_confirm_tag(psk, NULL, 0, true, got);
	cr_assert_eq(memcmp(want, got, MESH_TAG_LEN), 0);
}

Test(confirm, tag_equal_detects_every_byte)
{
	uint8_t a[MESH_TAG_LEN], b[MESH_TAG_LEN];
	for (int i = 0; i < MESH_TAG_LEN; i++)
		a[i] = (uint8_t)(i * 11);
	memcpy(b, a, sizeof(b));
	cr_assert(mesh_tag_equal(a, b));
	for (int i = 0; i < MESH_TAG_LEN; i++) {
		b[i] ^= 0x80;
		cr_assert_not(mesh_tag_equal(a, b), "byte %d", i);
		b[i] ^= 0x80;
	}
}

/* ---- seal / open ------------------------------------------------------------------------ */

static uint8_t key_a[MESH_KEY_LEN], key_b[MESH_KEY_LEN];

static void seal_setup(void)
{
	setup();
	for (int i = 0; i < MESH_KEY_LEN; i++) {
		key_a[i] = (uint8_t)(0x10 + i);
		key_b[i] = (uint8_t)(0x10 + i);
	}
	key_b[5] ^= 1;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static const size_t sizes[] = { 0, 1, 15, 16, 17, 63, 64, 65, 1400, 1500, 4096, 9000 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define MAXSZ 9000

Test(seal, nonce_layout)
{
	static const uint8_t ctx[20] = { 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
					 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3 };
	uint8_t n[MESH_NONCE_LEN];

	memset(n, 0xff, sizeof(n));
	mesh_nonce_build(0x0102030405060708ULL, NULL, 0, n);
	cr_assert_eq(n[0], 0x08);
	cr_assert_eq(n[7], 0x01);
	for (int i = 8; i < MESH_NONCE_LEN; i++)
		cr_assert_eq(n[i], 0, "byte %d", i);

	memset(n, 0xff, sizeof(n));
	mesh_nonce_build(1, ctx, 3, n);
	cr_assert_eq(n[0], 1);
	for (int i = 1; i < 8; i++)
		cr_assert_eq(n[i], 0);
	cr_assert_eq(n[8], 0xc0);
	cr_assert_eq(n[10], 0xc2);
	for (int i = 11; i < MESH_NONCE_LEN; i++)
		cr_assert_eq(n[i], 0, "byte %d", i);

	/* more than 16 bytes of context: only the first 16 are used */
	uint8_t m[MESH_NONCE_LEN];
	mesh_nonce_build(UINT64_MAX, ctx, sizeof(ctx), n);
	mesh_nonce_build(UINT64_MAX, ctx, MESH_NONCE_CTX_MAX, m);
	cr_assert_eq(memcmp(n, m, MESH_NONCE_LEN), 0);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(n[i], 0xff);
	cr_assert_eq(memcmp(n + 8, ctx, 16), 0);
}

Test(seal, round_trip_out_of_place, .init = seal_setup)
{
	static uint8_t msg[MAXSZ], box[MAXSZ + MESH_SEAL_OVERHEAD], back[MAXSZ + 1];
	uint8_t nonce[MESH_NONCE_LEN];

	for (size_t s = 0; s < NSIZES; s++) {
		size_t n = sizes[s];
		fill(msg, n, (uint32_t)n);
		mesh_nonce_build(n * 3 + 1, "ctx", 3, nonce);
		cr_assert_eq(mesh_seal(box, msg, n, nonce, key_a), 0, "size %zu", n);
		if (n >= 16)
			cr_assert_neq(memcmp(box + MESH_SEAL_OVERHEAD, msg, n), 0, "not encrypted");
		back[n] = 0x77;
		cr_assert_eq(mesh_open(back, box, n + MESH_SEAL_OVERHEAD, nonce, key_a), 0,
			     "size %zu", n);
		cr_assert_eq(memcmp(back, msg, n), 0, "size %zu", n);
		cr_assert_eq(back[n], 0x77, "open wrote past the plaintext");
	}
}

Test(seal, round_trip_in_place, .init = seal_setup)
{
	static uint8_t msg[MAXSZ], buf[MAXSZ + MESH_SEAL_OVERHEAD], ref[MAXSZ + MESH_SEAL_OVERHEAD];
	uint8_t nonce[MESH_NONCE_LEN];

	for (size_t s = 0; s < NSIZES; s++) {
		size_t n = sizes[s];
		fill(msg, n, (uint32_t)n + 99);
		mesh_nonce_build(42, NULL, 0, nonce);
		cr_assert_eq(mesh_seal(ref, msg, n, nonce, key_a), 0);

		memcpy(buf, msg, n);
		cr_assert_eq(mesh_seal(buf, buf, n, nonce, key_a), 0, "size %zu", n);
		cr_assert_eq(memcmp(buf, ref, n + MESH_SEAL_OVERHEAD), 0,
			     "in place differs from out of place, size %zu", n);
		cr_assert_eq(mesh_open(buf, buf, n + MESH_SEAL_OVERHEAD, nonce, key_a), 0);
		cr_assert_eq(memcmp(buf, msg, n), 0, "size %zu", n);
	}
}

/* The sleeve seals the payload that sits MESH_SEAL_OVERHEAD bytes further on into the place
 * right after its header, and opens into a separate buffer or back over the MAC. */
Test(seal, round_trip_overlapping_buffers, .init = seal_setup)
{
	static uint8_t msg[MAXSZ], buf[MAXSZ + 2 * MESH_SEAL_OVERHEAD],
		ref[MAXSZ + MESH_SEAL_OVERHEAD];
	uint8_t nonce[MESH_NONCE_LEN];

	for (size_t s = 0; s < NSIZES; s++) {
		size_t n = sizes[s];
		fill(msg, n, (uint32_t)n + 5);
		mesh_nonce_build(7, "hdr", 3, nonce);
		cr_assert_eq(mesh_seal(ref, msg, n, nonce, key_a), 0);

		memcpy(buf + MESH_SEAL_OVERHEAD, msg, n);
		cr_assert_eq(mesh_seal(buf, buf + MESH_SEAL_OVERHEAD, n, nonce, key_a), 0);
		cr_assert_eq(memcmp(buf, ref, n + MESH_SEAL_OVERHEAD), 0, "size %zu", n);
		cr_assert_eq(mesh_open(buf + MESH_SEAL_OVERHEAD, buf, n + MESH_SEAL_OVERHEAD,
				       nonce, key_a),
			     0);
		cr_assert_eq(memcmp(buf + MESH_SEAL_OVERHEAD, msg, n), 0, "size %zu", n);
	}
}

static void check_every_byte_tampered(size_t n)
{
	uint8_t *msg = malloc(n + 1), *box = malloc(n + MESH_SEAL_OVERHEAD), *out = malloc(n + 1);
	uint8_t nonce[MESH_NONCE_LEN];
	static const uint8_t flips[] = { 0x01, 0x80, 0xff };

	cr_assert(msg && box && out);
	fill(msg, n, 1234);
	mesh_nonce_build(1000, "x", 1, nonce);
	cr_assert_eq(mesh_seal(box, msg, n, nonce, key_a), 0);
	for (size_t i = 0; i < n + MESH_SEAL_OVERHEAD; i++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			box[i] ^= flips[f];
			cr_assert_eq(mesh_open(out, box, n + MESH_SEAL_OVERHEAD, nonce, key_a),
				     -EBADMSG, "size %zu: byte %zu ^ 0x%02x accepted", n, i,
				     flips[f]);
			box[i] ^= flips[f];
		}
	}
	cr_assert_eq(mesh_open(out, box, n + MESH_SEAL_OVERHEAD, nonce, key_a), 0);
	cr_assert_eq(memcmp(out, msg, n), 0);
	free(msg);
	free(box);
	free(out);
}

Test(seal, every_tampered_byte_is_rejected, .init = seal_setup)
{
	check_every_byte_tampered(0);
	check_every_byte_tampered(1);
	check_every_byte_tampered(100);
	check_every_byte_tampered(1500);
}

Test(seal, every_tampered_byte_is_rejected_9000, .init = seal_setup)
{
	check_every_byte_tampered(9000);
}

Test(seal, wrong_key_nonce_or_context_is_rejected, .init = seal_setup)
{
	static const uint8_t hdr[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t msg[200], box[200 + MESH_SEAL_OVERHEAD], out[200];
	uint8_t n_ok[MESH_NONCE_LEN], n_bad[MESH_NONCE_LEN];
	uint8_t hdr2[8];

	fill(msg, sizeof(msg), 9);
	mesh_nonce_build(5, hdr, sizeof(hdr), n_ok);
	cr_assert_eq(mesh_seal(box, msg, sizeof(msg), n_ok, key_a), 0);
	cr_assert_eq(mesh_open(out, box, sizeof(box), n_ok, key_a), 0);

	cr_assert_eq(mesh_open(out, box, sizeof(box), n_ok, key_b), -EBADMSG, "wrong key");

	mesh_nonce_build(6, hdr, sizeof(hdr), n_bad);
	cr_assert_eq(mesh_open(out, box, sizeof(box), n_bad, key_a), -EBADMSG, "counter + 1");
	mesh_nonce_build(4, hdr, sizeof(hdr), n_bad);
	cr_assert_eq(mesh_open(out, box, sizeof(box), n_bad, key_a), -EBADMSG, "counter - 1");
	mesh_nonce_build(5 | (1ULL << 63), hdr, sizeof(hdr), n_bad);
	cr_assert_eq(mesh_open(out, box, sizeof(box), n_bad, key_a), -EBADMSG, "counter bit 63");

	for (size_t i = 0; i < sizeof(hdr); i++) {
		memcpy(hdr2, hdr, sizeof(hdr));
		hdr2[i] ^= 0x40;
		mesh_nonce_build(5, hdr2, sizeof(hdr2), n_bad);
		cr_assert_eq(mesh_open(out, box, sizeof(box), n_bad, key_a), -EBADMSG,
			     "ctx byte %zu", i);
	}
	mesh_nonce_build(5, hdr, sizeof(hdr) - 1, n_bad);
	cr_assert_eq(mesh_open(out, box, sizeof(box), n_bad, key_a), -EBADMSG, "shorter ctx");
	mesh_nonce_build(5, NULL, 0, n_bad);
	cr_assert_eq(mesh_open(out, box, sizeof(box), n_bad, key_a), -EBADMSG, "no ctx");
}

Test(seal, truncated_input_is_rejected, .init = seal_setup)
{
	uint8_t msg[64], box[64 + MESH_SEAL_OVERHEAD], out[64 + MESH_SEAL_OVERHEAD];
	uint8_t nonce[MESH_NONCE_LEN];

	fill(msg, sizeof(msg), 3);
	mesh_nonce_build(1, NULL, 0, nonce);
	cr_assert_eq(mesh_seal(box, msg, sizeof(msg), nonce, key_a), 0);
	for (size_t len = 0; len < MESH_SEAL_OVERHEAD; len++)
		cr_assert_eq(mesh_open(out, box, len, nonce, key_a), -EBADMSG, "len %zu", len);
	/* a cut-off message of any length fails authentication */
	for (size_t len = MESH_SEAL_OVERHEAD; len < sizeof(box); len++)
		cr_assert_eq(mesh_open(out, box, len, nonce, key_a), -EBADMSG, "len %zu", len);
	cr_assert_eq(mesh_open(out, box, sizeof(box), nonce, key_a), 0);

	/* a sealed empty message is exactly the MAC and opens */
	cr_assert_eq(mesh_seal(box, msg, 0, nonce, key_a), 0);
	cr_assert_eq(mesh_open(out, box, MESH_SEAL_OVERHEAD, nonce, key_a), 0);
}

Test(seal, oversized_input_is_einval, .init = seal_setup)
{
	uint8_t nonce[MESH_NONCE_LEN];
	mesh_nonce_build(1, NULL, 0, nonce);
	/* rejected before any buffer is touched */
	cr_assert_eq(mesh_seal(NULL, NULL, SIZE_MAX, nonce, key_a), -EINVAL);
	cr_assert_eq(mesh_seal(NULL, NULL, SIZE_MAX - MESH_SEAL_OVERHEAD + 1, nonce, key_a), -EINVAL);
}

/* ---- esp ------------------------------------------------------------------------------ */

/* Both ends of a connection derive the same SA for each direction, and the two directions
 * differ: what the client sends under, the server receives under. */
Test(esp, both_ends_derive_the_same_sa_per_direction)
{
	struct pair p;
	struct mesh_esp_sa c_out, c_in, s_out, s_in;
	uint8_t psk[MESH_KEY_LEN];
	memset(psk, 0x11, sizeof(psk));
	new_pair(&p, psk);
	mesh_esp_derive(p.c.ipsec.tx, &c_out);
	mesh_esp_derive(p.c.ipsec.rx, &c_in);
	mesh_esp_derive(p.s.ipsec.tx, &s_out);
	mesh_esp_derive(p.s.ipsec.rx, &s_in);
	cr_assert_eq(c_out.spi, s_in.spi);
	cr_assert_eq(memcmp(c_out.key, s_in.key, MESH_ESP_KEY_LEN), 0);
	cr_assert_eq(s_out.spi, c_in.spi);
	cr_assert_eq(memcmp(s_out.key, c_in.key, MESH_ESP_KEY_LEN), 0);
	cr_assert_neq(c_out.spi, c_in.spi);
	cr_assert_neq(memcmp(c_out.key, c_in.key, MESH_ESP_KEY_LEN), 0);
}

/* The documented construction, recomputed here with libsodium directly. */
Test(esp, follows_the_documented_construction)
{
	uint8_t k[MESH_KEY_LEN], h[16], key[MESH_ESP_KEY_LEN];
	struct mesh_esp_sa sa;
	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)(i * 7 + 3);
	mesh_esp_derive(k, &sa);
	cr_assert_eq(crypto_generichash(h, sizeof(h), (const uint8_t *)"mesh esp spi", 12, k,
					sizeof(k)), 0);
	uint32_t spi = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	cr_assert_eq(sa.spi, spi < MESH_ESP_SPI_MIN ? spi + MESH_ESP_SPI_MIN : spi);
	const char *label = "mesh esp rfc4106(gcm(aes))";
	cr_assert_eq(crypto_generichash(key, sizeof(key), (const uint8_t *)label, strlen(label), k,
					sizeof(k)), 0);
	cr_assert_eq(memcmp(sa.key, key, sizeof(key)), 0);
}

/* SPIs never fall in the reserved range 0-255, and differ between keys. */
Test(esp, spis_avoid_the_reserved_range)
{
	uint32_t prev = 0;
	for (unsigned i = 0; i < 20000; i++) {
		uint8_t k[MESH_KEY_LEN] = { 0 };
		memcpy(k, &i, sizeof(i));
		struct mesh_esp_sa sa;
		mesh_esp_derive(k, &sa);
		cr_assert_geq(sa.spi, MESH_ESP_SPI_MIN, "key %u: spi %u", i, sa.spi);
		cr_assert_neq(sa.spi, prev);
		prev = sa.spi;
	}
}
