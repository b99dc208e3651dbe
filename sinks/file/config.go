package file

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Formats are the accepted values of format=.
const (
	FormatJSON = "json"
	FormatText = "text"
)

// Defaults, lumberjack's for max_size; max_backups is bounded by default (lumberjack keeps
// every backup unless told otherwise).
const (
	DefaultMaxSizeMB  = 100
	DefaultMaxBackups = 5
)

// Params are the file sink's own parameters. The rotation parameters also answer to the names
// of kubernetes-event-exporter's file receiver (maxsize, maxage, maxbackups), so its settings
// carry over as they are.
var Params = slices.Concat([]uri.Param{
	{Name: "format", Default: FormatJSON, Example: FormatText,
		Help: `"json": one JSON object per line, the event as herald.event/v1 (as the kafka sink's format=herald), or the body template rendered as JSON (its values escaped for JSON; line breaks between its tokens become spaces); "text": the body template rendered as text, each line break in it written as the two characters \n (\r for a carriage return)`},
	{Name: "max_size", Aliases: []string{"maxsize"}, Default: fmt.Sprint(DefaultMaxSizeMB), Example: "50",
		Help: "megabytes (MiB) a file may reach before it is rotated: renamed to NAME-TIMESTAMP.EXT (UTC) and a new one started, as lumberjack does. A single line larger than this is refused"},
	{Name: "max_backups", Aliases: []string{"maxbackups"}, Default: fmt.Sprint(DefaultMaxBackups), Example: "10",
		Help: "rotated files to keep, the newest; 0 keeps every one (then bound them with max_age)"},
	{Name: "max_age", Aliases: []string{"maxage"}, Default: "0", Example: "7",
		Help: "days a rotated file is kept, by the time in its name; 0 keeps them regardless of age"},
	{Name: "compress", Default: "false", Example: "true",
		Help: "gzip rotated files (NAME-TIMESTAMP.EXT.gz), in the background"},
}, template.Params)

// Config is a file sink's configuration, parsed from its --sink value.
type Config struct {
	// ID names the sink in logs and metrics.
	ID string
	// Path is the file, absolute and clean.
	Path string
	// Format is FormatJSON or FormatText.
	Format string
	// Template is the body template; nil writes herald.event/v1 records.
	Template *template.Options
	// MaxSize is the size in bytes at which the file is rotated.
	MaxSize int64
	// MaxBackups is how many rotated files are kept (0: all); MaxAge how old they may get (0:
	// any age).
	MaxBackups int
	MaxAge     time.Duration
	// Compress gzips rotated files.
	Compress bool
	// Rotation is set when a rotation parameter was given, which a path that is not a regular
	// file (/dev/stdout) cannot honour.
	Rotation []string
}

// ParseConfig reads a file --sink value: file:/ABSOLUTE/PATH?params. It touches no file: the
// directory is checked when the sink opens the file (not for herald check, which may run
// where the path does not exist).
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID}
	path, perr := targetPath(t.URL)
	c.Path = path
	c.Format = p.OneOf("format", FormatJSON, FormatText)
	c.MaxSize = int64(p.Int("max_size", 1, 1<<20)) << 20
	c.MaxBackups = p.Int("max_backups", 0, 1<<20)
	c.MaxAge = time.Duration(p.Int("max_age", 0, 100*365)) * 24 * time.Hour
	c.Compress = p.Bool("compress")
	for _, name := range []string{"max_size", "max_backups", "max_age", "compress"} {
		if p.Has(name) {
			c.Rotation = append(c.Rotation, name)
		}
	}
	o := template.FromParams(p, template.Options{
		Owner:    p.Owner(),
		SinkID:   t.ID,
		JSON:     c.Format == FormatJSON,
		Location: env.Location,
		Kube:     env.Kube,
		Metrics:  env.TemplateMetrics,
		Now:      env.Clock(),
	})
	if o.Inline != "" || o.ConfigMapName != "" {
		c.Template = &o
	} else if c.Format == FormatText {
		p.Errorf("format", "give the line's template in body_template= (or custom_body_configmap=), or leave format out for JSON lines", "format=text needs a template, and none is given")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr // the registry puts the sink's name in front
	}
	return c, nil
}

// targetPath reads the file's path from the target: file:/var/log/herald/events.log or
// file:///var/log/herald/events.log. Its errors never quote a host (it might hold a token).
func targetPath(u *url.URL) (string, error) {
	const fix = "write the file's absolute path, e.g. file:/var/log/herald/events.log (or file:/dev/stdout)"
	switch {
	case u == nil || u.Path == "" && u.Opaque == "" && u.Host == "":
		return "", fmt.Errorf("no path given; %s", fix)
	case u.Host != "" || u.User != nil:
		return "", fmt.Errorf("the target names a host (file://HOST/...), not a path; %s, or file:///PATH", fix)
	case u.Opaque != "" || !filepath.IsAbs(u.Path):
		return "", fmt.Errorf("the path is not absolute; %s", fix)
	case strings.HasSuffix(u.Path, "/"):
		return "", fmt.Errorf("the path ends in '/', so it names a directory; %s", fix)
	}
	return filepath.Clean(u.Path), nil
}
