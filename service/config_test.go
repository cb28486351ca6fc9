package service

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestDefaultIsValid(t *testing.T) {
	d := Default()
	// Production needs TLS, even on loopback, unless told otherwise.
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "needs TLS") {
		t.Fatalf("Default().Validate() = %v, want a refusal of plain HTTP outside dev mode", err)
	}
	d.InsecurePlainHTTP = true
	if err := d.Validate(); err != nil {
		t.Fatalf("Default() with insecure_plain_http: Validate() = %v", err)
	}
	d.InsecurePlainHTTP = false
	if d.Addr != "127.0.0.1:8200" || d.DataDir != "./custodian-data" || d.SealType() != SealShamir {
		t.Errorf("defaults: addr %q data %q seal %q", d.Addr, d.DataDir, d.SealType())
	}
	d.Dev = true
	if d.SealType() != SealKeyFile {
		t.Errorf("dev seal = %q, want keyfile", d.SealType())
	}
	if got, want := d.KeyFilePath(), filepath.Join("./custodian-data", "unseal.key"); got != want {
		t.Errorf("KeyFilePath = %q, want %q", got, want)
	}
	if d.WriteTimeout <= 30*time.Minute {
		t.Errorf("write timeout %v does not outlast the backup route's 30m", d.WriteTimeout)
	}
}

// Each setting is given by the file, by the environment and by a flag in
// some combination; the highest source wins, and a setting no source
// gives keeps its default.
func TestPrecedence(t *testing.T) {
	file := writeFile(t, "c.yaml", `
listen_addr: 127.0.0.1:9001
data_dir: /from/file
log_level: debug
read_timeout: 1m
seal: keyfile
`)
	vars := map[string]string{
		"CUSTODIAN_DATA_DIR":  "/from/env",
		"CUSTODIAN_LOG_LEVEL": "warn",
		"CUSTODIAN_DEV":       "true",
	}
	flags := map[string]string{"log-level": "error", "max-batch-items": "7"}
	c, err := Load(file, env(vars), flags)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Addr = "127.0.0.1:9001"   // file only
	want.ReadTimeout = time.Minute // file only
	want.Seal = "keyfile"          // file only
	want.DataDir = "/from/env"     // env over file
	want.Dev = true                // env only
	want.LogLevel = "error"        // flag over env over file
	want.MaxBatchItems = 7         // flag only
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", c, want)
	}

	// The config file may come from CUSTODIAN_CONFIG.
	vars[EnvConfig] = file
	c, err = Load("", env(vars), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9001" || c.LogLevel != "warn" {
		t.Errorf("via %s: addr %q level %q", EnvConfig, c.Addr, c.LogLevel)
	}
}

func TestLoadFileStrict(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown key", "listen_addr: 127.0.0.1:1\nlisten_adr: 127.0.0.1:2\n", []string{`line 2`, `unknown setting "listen_adr"`}},
		{"nested unknown", "limits:\n  read_timeout: 5s\n", []string{`unknown setting "limits"`}},
		{"wrong type", "max_batch_items: lots\n", []string{"max_batch_items", "lots"}},
		{"bare number duration", "read_timeout: 30\n", []string{"read_timeout"}},
		{"bad duration", "read_timeout: soon\n", []string{"soon"}},
		{"duplicate key", "data_dir: a\ndata_dir: b\n", []string{"data_dir", "already defined"}},
		{"not a mapping", "- listen_addr\n", []string{"want a mapping"}},
		{"two documents", "dev: true\n---\ndev: false\n", []string{"more than one YAML document"}},
		{"syntax", "listen_addr: [\n", []string{"line"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "c.yaml", tc.yaml)
			_, err := LoadFile(path)
			if err == nil {
				t.Fatalf("LoadFile(%q) succeeded", tc.yaml)
			}
			for _, w := range append(tc.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	t.Run("empty file", func(t *testing.T) {
		c, err := LoadFile(writeFile(t, "c.yaml", "# nothing set\n"))
		if err != nil || !reflect.DeepEqual(c, Default()) {
			t.Errorf("LoadFile(empty) = %+v, %v; want the defaults", c, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := LoadFile(filepath.Join(t.TempDir(), "none.yaml")); err == nil || !strings.Contains(err.Error(), "none.yaml") {
			t.Errorf("LoadFile(missing) = %v", err)
		}
	})
	t.Run("every key", func(t *testing.T) {
		c, err := LoadFile(writeFile(t, "c.yaml", `
listen_addr: "[::1]:8443"
tls_cert_file: /etc/kc/cert.pem
tls_key_file: /etc/kc/key.pem
tls_client_ca_file: /etc/kc/ca.pem
data_dir: /var/lib/kc
postgres_dsn: postgres://kc@db/kc
postgres_schema: kc
seal: shamir
key_file: /etc/kc/unseal.key
log_format: json
log_level: warn
max_header_bytes: 8192
read_header_timeout: 2s
read_timeout: 3m
write_timeout: 4m
idle_timeout: 5m
shutdown_timeout: 6s
max_batch_items: 10
max_concurrent_requests: 11
dev: false
`))
		if err != nil {
			t.Fatal(err)
		}
		want := Config{Addr: "[::1]:8443", TLSCertFile: "/etc/kc/cert.pem", TLSKeyFile: "/etc/kc/key.pem",
			TLSClientCAFile: "/etc/kc/ca.pem", DataDir: "/var/lib/kc", PostgresDSN: "postgres://kc@db/kc",
			PostgresSchema: "kc", Seal: "shamir", KeyFile: "/etc/kc/unseal.key", LogFormat: "json", LogLevel: "warn",
			MaxHeaderBytes: 8192, ReadHeaderTimeout: 2 * time.Second, ReadTimeout: 3 * time.Minute,
			WriteTimeout: 4 * time.Minute, IdleTimeout: 5 * time.Minute, ShutdownTimeout: 6 * time.Second,
			MaxBatchItems: 10, MaxConcurrentRequests: 11}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("LoadFile:\n got %+v\nwant %+v", c, want)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})
}

func TestApplyEnvErrors(t *testing.T) {
	c := Default()
	err := c.ApplyEnv(env(map[string]string{
		"CUSTODIAN_READ_TIMEOUT":    "abc",
		"CUSTODIAN_MAX_BATCH_ITEMS": "1e3",
		"CUSTODIAN_DEV":             "yes please",
		"CUSTODIAN_ADDR":            "http://127.0.0.1:8200", // the client's variable: not read
	}))
	for _, w := range []string{"CUSTODIAN_READ_TIMEOUT", `"abc"`, "CUSTODIAN_MAX_BATCH_ITEMS", "CUSTODIAN_DEV"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("ApplyEnv error %v does not name %s", err, w)
		}
	}
	if c.Addr != DefaultAddr {
		t.Errorf("CUSTODIAN_ADDR, the client's variable, changed the listen address to %q", c.Addr)
	}
}

func TestSetFlag(t *testing.T) {
	c := Default()
	if err := c.Set("addr", "127.0.0.1:1"); err != nil || c.Addr != "127.0.0.1:1" {
		t.Errorf("Set(addr) = %v, Addr %q", err, c.Addr)
	}
	if err := c.Set("read-timeout", "forever"); err == nil || !strings.Contains(err.Error(), "--read-timeout") {
		t.Errorf("Set(read-timeout, forever) = %v", err)
	}
	if err := c.Set("no-such-flag", "1"); err == nil || !strings.Contains(err.Error(), "--no-such-flag") {
		t.Errorf("Set(no-such-flag) = %v", err)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want []string // substrings of the error; nil means valid
	}{
		{"loopback plain", func(c *Config) { c.Addr = "127.0.0.1:0" },
			[]string{"tls_cert_file", "outside dev mode the server needs TLS", "insecure_plain_http"}},
		{"loopback plain, allowed", func(c *Config) { c.Addr, c.InsecurePlainHTTP = "127.0.0.1:0", true }, nil},
		{"ipv6 loopback plain, allowed", func(c *Config) { c.Addr, c.InsecurePlainHTTP = "[::1]:8200", true }, nil},
		{"localhost plain, allowed", func(c *Config) { c.Addr, c.InsecurePlainHTTP = "localhost:8200", true }, nil},
		{"remote plain, allowed anyway", func(c *Config) { c.Addr, c.InsecurePlainHTTP = "192.0.2.1:8200", true },
			[]string{"TLS is required off loopback"}},
		{"dev loopback plain", func(c *Config) { c.Dev = true }, nil},
		{"all interfaces plain", func(c *Config) { c.Addr = "0.0.0.0:8200" },
			[]string{"listen_addr", "--addr", "CUSTODIAN_LISTEN_ADDR", "TLS is required off loopback"}},
		{"empty host plain", func(c *Config) { c.Addr = ":8200" }, []string{"TLS is required off loopback"}},
		{"remote plain", func(c *Config) { c.Addr = "192.0.2.1:8200" }, []string{"TLS is required off loopback"}},
		{"remote name plain", func(c *Config) { c.Addr = "kc.example.com:8200" }, []string{"TLS is required off loopback"}},
		{"remote tls", func(c *Config) { c.Addr = "0.0.0.0:8200"; c.TLSCertFile, c.TLSKeyFile = "c", "k" }, nil},
		{"dev remote tls", func(c *Config) {
			c.Dev, c.Addr = true, "0.0.0.0:8200"
			c.TLSCertFile, c.TLSKeyFile = "c", "k"
		}, []string{"dev mode listens on loopback only"}},
		{"dev remote plain", func(c *Config) { c.Dev, c.Addr = true, "192.0.2.1:8200" },
			[]string{"TLS is required off loopback", "dev mode listens on loopback only"}},
		{"bad addr", func(c *Config) { c.Addr = "8200" }, []string{"listen_addr", `"8200"`}},
		{"bad port", func(c *Config) { c.Addr = "127.0.0.1:http" }, []string{"listen_addr", "port"}},
		{"big port", func(c *Config) { c.Addr = "127.0.0.1:70000" }, []string{"listen_addr", "port"}},
		{"cert without key", func(c *Config) { c.TLSCertFile = "c" }, []string{"tls_key_file", "--tls-key"}},
		{"key without cert", func(c *Config) { c.TLSKeyFile = "k" }, []string{"tls_cert_file"}},
		{"client ca without tls", func(c *Config) { c.TLSClientCAFile = "ca" }, []string{"tls_client_ca_file", "CUSTODIAN_TLS_CLIENT_CA_FILE"}},
		{"no data dir", func(c *Config) { c.DataDir = "" }, []string{"data_dir"}},
		{"bad seal", func(c *Config) { c.Seal = "aws" }, []string{"seal", `"aws"`}},
		{"dev shamir", func(c *Config) { c.Dev, c.Seal = true, "shamir" }, []string{"seal", "dev mode"}},
		{"dev postgres", func(c *Config) { c.Dev, c.PostgresDSN = true, "postgres://x" }, []string{"postgres_dsn", "dev mode"}},
		{"bad log format", func(c *Config) { c.LogFormat = "xml" }, []string{"log_format", `"xml"`}},
		{"bad log level", func(c *Config) { c.LogLevel = "loud" }, []string{"log_level", `"loud"`}},
		{"log level offset", func(c *Config) { c.LogLevel, c.Dev = "INFO+2", true }, nil},
		{"zero timeout", func(c *Config) { c.ReadHeaderTimeout = 0 }, []string{"read_header_timeout", "positive"}},
		{"negative timeout", func(c *Config) { c.ShutdownTimeout = -time.Second }, []string{"shutdown_timeout"}},
		{"zero batch", func(c *Config) { c.MaxBatchItems = 0 }, []string{"max_batch_items"}},
		{"zero concurrency", func(c *Config) { c.MaxConcurrentRequests = 0 }, []string{"max_concurrent_requests"}},
		{"zero header bytes", func(c *Config) { c.MaxHeaderBytes = 0 }, []string{"max_header_bytes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.edit(&c)
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want an error naming %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// The settings table, Config's yaml tags and docs/server.md must agree.
func TestSettingsTable(t *testing.T) {
	var keys []string
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		if tag := ct.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	var table, envs, flags []string
	for _, s := range Settings() {
		table = append(table, s.Key)
		envs = append(envs, s.Env)
		flags = append(flags, s.Flag)
		if s.Env != "CUSTODIAN_"+strings.ToUpper(s.Key) {
			t.Errorf("setting %s: env %s", s.Key, s.Env)
		}
		if s.Usage == "" {
			t.Errorf("setting %s has no usage", s.Key)
		}
	}
	if !slices.Equal(keys, table) {
		t.Errorf("Config yaml keys %v\n!= settings table %v", keys, table)
	}
	for _, list := range [][]string{envs, flags} {
		if s := slices.Compact(slices.Sorted(slices.Values(list))); len(s) != len(list) {
			t.Errorf("duplicates in %v", list)
		}
	}
	// The client's variables must never be read as server settings.
	for _, client := range []string{"CUSTODIAN_ADDR", "CUSTODIAN_TOKEN", "CUSTODIAN_CACERT"} {
		if slices.Contains(envs, client) {
			t.Errorf("a server setting uses the client's variable %s", client)
		}
	}

	// Setting every flag to its default changes nothing: Default and
	// Value agree.
	c := Default()
	for _, s := range Settings() {
		if err := c.Set(s.Flag, s.Default); err != nil {
			t.Errorf("Set(%s, default %q): %v", s.Flag, s.Default, err)
		}
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("setting each default changed the config: %+v", c)
	}
}

func TestDocsListEverySetting(t *testing.T) {
	b, err := os.ReadFile("../docs/server.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `") {
			key := strings.Trim(strings.SplitN(line, "|", 3)[1], " `")
			rows[key] = line
		}
	}
	for _, s := range Settings() {
		row, ok := rows[s.Key]
		if !ok {
			t.Errorf("docs/server.md has no table row for %s", s.Key)
			continue
		}
		for _, w := range []string{"`" + s.Env + "`", "`--" + s.Flag + "`"} {
			if !strings.Contains(row, w) {
				t.Errorf("docs/server.md row for %s lacks %s: %s", s.Key, w, row)
			}
		}
		if s.Default != "" && s.Default != "0s" && !strings.Contains(row, "`"+s.Default+"`") {
			t.Errorf("docs/server.md row for %s lacks its default `%s`: %s", s.Key, s.Default, row)
		}
		if s.Live != strings.Contains(row, "(live)") {
			t.Errorf("docs/server.md row for %s: live is %v; mark live settings \"(live)\"", s.Key, s.Live)
		}
	}
}
