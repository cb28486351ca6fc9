package service

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvConfig names the config file when no --config flag does.
const EnvConfig = "CUSTODIAN_CONFIG"

// Setting describes one setting: its config file key, environment
// variable and flag, its default, and whether SIGHUP applies it to a
// running server. The CLI defines its flags from Settings.
type Setting struct {
	Key     string // YAML key in the config file
	Env     string // environment variable
	Flag    string // flag of `custodian server`, without "--"
	Usage   string
	Live    bool // a reload (SIGHUP) applies it without a restart
	Default string

	get func(Config) string
	set func(*Config, string) error
}

// settings is the table behind Settings, ApplyEnv, Set and the reload's
// report of what changed; a test holds it to Config's yaml tags and to
// docs/server.md.
var settings = []Setting{
	str("listen_addr", "addr", "listen address, host:port (port 0 picks one)", false, func(c *Config) *string { return &c.Addr }),
	str("tls_cert_file", "tls-cert", "PEM certificate chain; with tls_key_file, turns on TLS", true, func(c *Config) *string { return &c.TLSCertFile }),
	str("tls_key_file", "tls-key", "PEM private key of tls_cert_file", true, func(c *Config) *string { return &c.TLSKeyFile }),
	str("tls_client_ca_file", "tls-client-ca", "PEM CA bundle: require client certificates it issued (mutual TLS)", true, func(c *Config) *string { return &c.TLSClientCAFile }),
	str("data_dir", "data", "directory of the bbolt store, the default key file and the dev root token", false, func(c *Config) *string { return &c.DataDir }),
	str("postgres_dsn", "postgres-dsn", "PostgreSQL connection string: store keys there instead of bbolt", false, func(c *Config) *string { return &c.PostgresDSN }),
	str("postgres_schema", "postgres-schema", "PostgreSQL schema of the tables (empty: the store's default)", false, func(c *Config) *string { return &c.PostgresSchema }),
	str("seal", "seal", "root key protection: shamir or keyfile (empty: shamir; keyfile in dev mode)", false, func(c *Config) *string { return &c.Seal }),
	str("key_file", "key-file", "key file of the keyfile seal (empty: DATA/unseal.key)", false, func(c *Config) *string { return &c.KeyFile }),
	str("log_format", "log-format", "log format: text or json", false, func(c *Config) *string { return &c.LogFormat }),
	str("log_level", "log-level", "log level: debug, info, warn or error", true, func(c *Config) *string { return &c.LogLevel }),
	integer("max_header_bytes", "max-header-bytes", "most bytes of request headers", func(c *Config) *int { return &c.MaxHeaderBytes }),
	duration("read_header_timeout", "read-header-timeout", "time to read a request's headers", func(c *Config) *time.Duration { return &c.ReadHeaderTimeout }),
	duration("read_timeout", "read-timeout", "time to read a whole request", func(c *Config) *time.Duration { return &c.ReadTimeout }),
	duration("write_timeout", "write-timeout", "time from a request's headers to the end of its response", func(c *Config) *time.Duration { return &c.WriteTimeout }),
	duration("idle_timeout", "idle-timeout", "how long an idle keep-alive connection stays open", func(c *Config) *time.Duration { return &c.IdleTimeout }),
	duration("shutdown_timeout", "shutdown-timeout", "how long a graceful shutdown waits for requests in flight", func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
	integer("max_batch_items", "max-batch-items", "most items in one batch encrypt or decrypt", func(c *Config) *int { return &c.MaxBatchItems }),
	integer("max_concurrent_requests", "max-concurrent-requests", "most requests handled at once; more wait", func(c *Config) *int { return &c.MaxConcurrentRequests }),
	boolean("dev", "dev", "dev mode: auto-initialised, auto-unsealed, loopback only, root token printed", func(c *Config) *bool { return &c.Dev }),
	boolean("insecure_plain_http", "insecure-plain-http", "outside dev mode, serve plain HTTP on a loopback address (behind a local TLS proxy, or in tests)", func(c *Config) *bool { return &c.InsecurePlainHTTP }),
}

func init() {
	d := Default()
	for i := range settings {
		settings[i].Default = settings[i].get(d)
	}
}

func envName(key string) string {
	b := []byte("CUSTODIAN_" + key)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func str(key, flag, usage string, live bool, field func(*Config) *string) Setting {
	return Setting{Key: key, Env: envName(key), Flag: flag, Usage: usage, Live: live,
		get: func(c Config) string { return *field(&c) },
		set: func(c *Config, v string) error { *field(c) = v; return nil },
	}
}

func integer(key, flag, usage string, field func(*Config) *int) Setting {
	return Setting{Key: key, Env: envName(key), Flag: flag, Usage: usage,
		get: func(c Config) string { return strconv.Itoa(*field(&c)) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			*field(c) = n
			return nil
		},
	}
}

func duration(key, flag, usage string, field func(*Config) *time.Duration) Setting {
	return Setting{Key: key, Env: envName(key), Flag: flag, Usage: usage,
		get: func(c Config) string { return field(&c).String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 30s or 5m", v)
			}
			*field(c) = d
			return nil
		},
	}
}

func boolean(key, flag, usage string, field func(*Config) *bool) Setting {
	return Setting{Key: key, Env: envName(key), Flag: flag, Usage: usage,
		get: func(c Config) string { return strconv.FormatBool(*field(&c)) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			*field(c) = b
			return nil
		},
	}
}

// Settings returns every setting, in the order of the docs.
func Settings() []Setting {
	return append([]Setting(nil), settings...)
}

func settingByKey(key string) (Setting, bool) {
	for _, s := range settings {
		if s.Key == key {
			return s, true
		}
	}
	return Setting{}, false
}

// Value returns the setting's value in c, as text.
func (s Setting) Value(c Config) string { return s.get(c) }

// Set sets the setting named by its flag (without "--") from its text
// form, as a flag gives it: the CLI calls it for each flag given on the
// command line, after LoadFile and ApplyEnv, so that flags win.
func (c *Config) Set(flag, value string) error {
	for _, s := range settings {
		if s.Flag == flag {
			if err := s.set(c, value); err != nil {
				return fmt.Errorf("flag --%s: %w", flag, err)
			}
			return nil
		}
	}
	return fmt.Errorf("no server setting has the flag --%s", flag)
}

// ApplyEnv sets each setting whose environment variable getenv returns
// non-empty: CUSTODIAN_ and the YAML key in capitals (CUSTODIAN_DATA_DIR).
// An empty variable counts as unset. The error names every bad variable.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	var errs []error
	for _, s := range settings {
		v := getenv(s.Env)
		if v == "" {
			continue
		}
		if err := s.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("environment %s: %w", s.Env, err))
		}
	}
	return errors.Join(errs...)
}

// LoadFile returns the defaults overlaid with the YAML config file at
// path. Decoding is strict: a key that names no setting, a value of the
// wrong type and a key given twice are errors that name the file, the
// line and the key.
func LoadFile(path string) (Config, error) {
	c := Default()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("config file: %w", err)
	}
	if err := decodeYAML(b, &c); err != nil {
		return c, fmt.Errorf("config file %s: %w", path, err)
	}
	return c, nil
}

func decodeYAML(b []byte, c *Config) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil // an empty file sets nothing
	} else if err != nil {
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document; a config file is one")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping of settings (key: value)", root.Line)
	}
	fields := yamlFields(c)
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		field, ok := fields[k.Value]
		if !ok {
			return fmt.Errorf("line %d: unknown setting %q (docs/server.md lists them)", k.Line, k.Value)
		}
		if line, dup := seen[k.Value]; dup {
			return fmt.Errorf("line %d: setting %q already defined at line %d", k.Line, k.Value, line)
		}
		seen[k.Value] = k.Line
		if err := v.Decode(field); err != nil {
			return fmt.Errorf("line %d: setting %s: %w", v.Line, k.Value, err)
		}
	}
	return nil
}

// yamlFields maps each yaml key of Config to a pointer to its field in c.
func yamlFields(c *Config) map[string]any {
	m := map[string]any{}
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		if tag := v.Type().Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			m[tag] = v.Field(i).Addr().Interface()
		}
	}
	return m
}

// Load gathers a configuration the documented way: defaults, then the
// config file (path, or $CUSTODIAN_CONFIG when path is empty; none if
// both are empty), then the environment, then flags (flag name to value,
// only those given on the command line), and validates the result.
func Load(path string, getenv func(string) string, flags map[string]string) (Config, error) {
	if path == "" {
		path = getenv(EnvConfig)
	}
	c := Default()
	if path != "" {
		var err error
		if c, err = LoadFile(path); err != nil {
			return c, err
		}
	}
	if err := c.ApplyEnv(getenv); err != nil {
		return c, err
	}
	for name, v := range flags {
		if err := c.Set(name, v); err != nil {
			return c, err
		}
	}
	return c, c.Validate()
}
