// Package testenv gives tests the real services make test starts beside
// them (PostgreSQL, an S3-compatible server, pinned tools): each helper
// returns what the test needs, or skips the test when the service is not
// there, unless PALISADE_TEST_REQUIRE names it (CI does), when the test
// fails instead.
package testenv

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Require returns the environment variable env, or skips (fails when
// PALISADE_TEST_REQUIRE lists service) saying how to provide it.
func Require(t testing.TB, service, env, how string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		Missing(t, service, env+" is unset; "+how)
	}
	return v
}

// Missing skips the test because service is missing, or fails it when
// PALISADE_TEST_REQUIRE lists service.
func Missing(t testing.TB, service, why string) {
	t.Helper()
	for _, s := range strings.Split(os.Getenv("PALISADE_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(s) == service {
			t.Fatalf("%s (PALISADE_TEST_REQUIRE lists %s)", why, service)
		}
	}
	t.Skip(why)
}

// PostgresDSN returns the DSN of the test PostgreSQL (scripts/postgres.sh).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return Require(t, "postgres", "PALISADE_TEST_POSTGRES_DSN", `run: eval "$(scripts/postgres.sh start)"`)
}

// PostgresSchema creates a fresh schema in the test PostgreSQL and returns
// a DSN whose search_path is that schema, so that every store the test
// opens starts empty; the schema is dropped when the test ends.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresDSN(t)
	schema := "t_" + strings.ToLower(rand.Text()[:16])
	exec := func(sql string) {
		ctx := context.Background() // also used in Cleanup, after t.Context is done
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("connect to the test PostgreSQL: %v", err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("PALISADE_TEST_POSTGRES_DSN is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// S3URL returns the gocloud s3:// URL of the test S3-compatible server's
// bucket (scripts/s3.sh; its credentials are in AWS_* variables).
func S3URL(t testing.TB) string {
	t.Helper()
	return Require(t, "s3", "PALISADE_TEST_S3_URL", `run: eval "$(scripts/s3.sh start)"`)
}

// S3Prefix returns the test bucket's URL confined to a fresh key prefix,
// so that tests sharing the bucket never see each other's objects.
func S3Prefix(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(S3URL(t))
	if err != nil {
		t.Fatalf("PALISADE_TEST_S3_URL is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("prefix", q.Get("prefix")+"t-"+strings.ToLower(rand.Text()[:16])+"/")
	u.RawQuery = q.Encode()
	return u.String()
}
