package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Load builds the configuration in order of precedence, lowest first: the
// defaults, the YAML file (--config, else $HONEYAPI_CONFIG), the HONEYAPI_*
// environment variables, then the flags the user set. It validates the
// result. fs may be nil; lookup is normally os.LookupEnv.
func Load(fs *pflag.FlagSet, lookup func(string) (string, bool)) (*Config, error) {
	c := Default()
	if path := File(fs, lookup); path != "" {
		if err := c.LoadFile(path); err != nil {
			return nil, err
		}
	}
	if err := ApplyEnv(c, lookup); err != nil {
		return nil, err
	}
	if err := ApplyFlags(c, fs); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// File returns the config file to read: the --config flag if set, else
// $HONEYAPI_CONFIG, else "" (no file).
func File(fs *pflag.FlagSet, lookup func(string) (string, bool)) string {
	if fs != nil {
		if fl := fs.Lookup(FlagConfigFile); fl != nil && fl.Changed && fl.Value.String() != "" {
			return fl.Value.String()
		}
	}
	if v, ok := lookup(EnvConfigFile); ok {
		return v
	}
	return ""
}

// LoadFile overrides c with the keys present in the YAML file at path. An
// unknown key is an error naming the file, line and key.
func (c *Config) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := c.loadYAML(data); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return nil
}

func (c *Config) loadYAML(data []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return cleanYAMLError(err)
	}
	if len(root.Content) == 0 {
		return nil // empty file: nothing set
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the file must be a mapping of keys (listen: ..., decoy: ...)", doc.Line)
	}
	if err := checkKeys(doc, reflect.TypeOf(*c), ""); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return cleanYAMLError(err)
	}
	return nil
}

// checkKeys reports the first key of node that t has no field for, with its
// full dotted path and the keys that are allowed there, and the first value
// that does not decode into its field, with its key.
func checkKeys(node *yaml.Node, t reflect.Type, prefix string) error {
	known := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		known[name] = sf.Type
		names = append(names, name)
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		ft, ok := known[k.Value]
		if !ok {
			where := "at the top level"
			if prefix != "" {
				where = "under " + strings.TrimSuffix(prefix, ".")
			}
			slices.Sort(names)
			return fmt.Errorf("line %d: unknown key %q (known keys %s: %s)",
				k.Line, prefix+k.Value, where, strings.Join(names, ", "))
		}
		if ft.Kind() == reflect.Struct && v.Kind == yaml.MappingNode {
			if err := checkKeys(v, ft, prefix+k.Value+"."); err != nil {
				return err
			}
			continue
		}
		// Decode each value on its own so a bad one is reported with its key.
		if err := v.Decode(reflect.New(ft).Interface()); err != nil {
			return fmt.Errorf("line %d: %s: %v", v.Line, prefix+k.Value, stripLine(cleanYAMLError(err)))
		}
	}
	return nil
}

// cleanYAMLError drops yaml.v3's "yaml: " prefixes so messages read as
// "config: FILE: line N: ...".
func cleanYAMLError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return errors.New(strings.Join(te.Errors, "; "))
	}
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

// stripLine drops a leading "line N: " that yaml.v3 puts on type errors,
// since the caller reports the line itself.
func stripLine(err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if _, after, found := strings.Cut(rest, ": "); found {
			return after
		}
	}
	return msg
}

// UnmarshalYAML reads a duration written as a Go duration string.
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.ScalarNode {
		return errors.New("a duration must be a string such as 30m or 1h")
	}
	v, err := parseDuration(node.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
