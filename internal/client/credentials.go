package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/palisade-sec/palisade/internal/atomicfile"
)

// EnvToken names the environment variable that holds the API token.
const EnvToken = "PALISADE_TOKEN"

// maxCredentialsFile bounds the credentials file read into memory.
const maxCredentialsFile = 1 << 20

// Credentials are the tokens 'palisade login' stored, by server host.
type Credentials struct {
	Servers map[string]Credential `json:"servers"`
}

// Credential is one server's token.
type Credential struct {
	Token string `json:"token"`
}

// DefaultCredentialsPath is palisade/credentials.json in the user's
// configuration directory.
func DefaultCredentialsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the credentials file: %w", err)
	}
	return filepath.Join(dir, "palisade", "credentials.json"), nil
}

// LoadCredentials reads the credentials file; a missing file is empty.
func LoadCredentials(path string) (Credentials, error) {
	c := Credentials{Servers: map[string]Credential{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read credentials: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return c, fmt.Errorf("read credentials: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return c, fmt.Errorf("credentials file %s is readable by others (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	if fi.Size() > maxCredentialsFile {
		return c, fmt.Errorf("credentials file %s is larger than 1 MiB; remove it and log in again", path)
	}
	if err := json.NewDecoder(f).Decode(&c); err != nil {
		return c, fmt.Errorf("credentials file %s is not valid JSON (remove it and log in again): %w", path, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]Credential{}
	}
	return c, nil
}

// Save writes the credentials file atomically with mode 0600, creating its
// directory with mode 0700.
func (c Credentials) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	return nil
}

// Token returns the token for host: PALISADE_TOKEN when set (lookupEnv),
// else the stored one. It is an error to have neither.
func Token(host, credentialsPath string, lookupEnv func(string) (string, bool)) (string, error) {
	if t, ok := lookupEnv(EnvToken); ok && t != "" {
		return t, nil
	}
	c, err := LoadCredentials(credentialsPath)
	if err != nil {
		return "", err
	}
	if cred, ok := c.Servers[host]; ok && cred.Token != "" {
		return cred.Token, nil
	}
	return "", fmt.Errorf("no token for %s: run 'palisade login %s' or set %s", host, host, EnvToken)
}
