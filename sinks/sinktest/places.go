package sinktest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/heraldproject/herald/sinks"
)

// Place is one spot of one sink type where a --sink value holds a secret.
type Place struct {
	Scheme string
	// Where names the spot: "parameter key", "userinfo password", "path token", "header value",
	// "DSN password", "query parameter code".
	Where string
	// Param is the declared Secret parameter this place covers, "" for a spot in the URL's
	// structure.
	Param string
	// Local is set when the value points at host, so the sink may be run against a local
	// receiver; unset for URLs whose host is fixed (hooks.slack.com).
	Local bool
	// Sink returns the --sink value with secret (the secret itself, or ${VAR}) in this place; host
	// is the receiver's host:port.
	Sink func(host, secret string) string
}

func (p Place) String() string { return p.Scheme + " " + p.Where }

// EnvVar is the variable the ${ENV} form of the leak tests refers to.
const EnvVar = "HERALD_LEAK_SECRET"

// Ref is how a --sink value refers to EnvVar.
const Ref = "${" + EnvVar + "}"

// hostFirst builds a value whose format takes the host first and the secret second.
func hostFirst(scheme, where, param, format string) Place {
	return Place{Scheme: scheme, Where: where, Param: param, Local: true, Sink: func(host, secret string) string {
		return fmt.Sprintf(format, host, secret)
	}}
}

// secretFirst builds a value whose format takes the secret first and the host second.
func secretFirst(scheme, where, param, format string) Place {
	return Place{Scheme: scheme, Where: where, Param: param, Local: true, Sink: func(host, secret string) string {
		return fmt.Sprintf(format, secret, host)
	}}
}

// fixed builds a value for a public service's URL: it is parsed and checked, never sent.
func fixed(scheme, where, param, format string) Place {
	return Place{Scheme: scheme, Where: where, Param: param, Sink: func(_, secret string) string {
		return fmt.Sprintf(format, secret)
	}}
}

// Places returns every secret place of every sink type herald has. NoSecrets lists the types
// that hold none. A sink type in neither fails TestPlacesCoverEverySink, so a new sink gets
// its places here.
func Places() []Place {
	return []Place{
		hostFirst("webhook", "userinfo password", "", "webhook:http://herald:%[2]s@%[1]s/events?method=POST&level=Normal"),
		hostFirst("webhook", "header Authorization", "header", "webhook:http://%s/events?method=POST&level=Normal&header=Authorization=Bearer %s"),
		hostFirst("webhook", "header X-Api-Key", "header", "webhook:http://%s/events?method=POST&level=Normal&header=X-Api-Key=%s&header=Content-Type=application/json"),
		hostFirst("webhook", "query parameter code", "", "webhook:http://%s/api/events?code=%s&method=POST&level=Normal"),
		hostFirst("webhook", "query parameter token", "", "webhook:http://%s/events?token=%s&method=POST&level=Normal"),
		fixed("webhook", "Slack webhook path", "", "webhook:https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/%s?method=POST&level=Normal"),
		fixed("webhook", "Discord webhook path", "", "webhook:https://discord.com/api/webhooks/123456789012345678/%s?method=POST&level=Normal"),

		hostFirst("loki", "parameter token", "token", "loki:http://%s?tenant=team-a&token=%s&level=Normal"),
		hostFirst("loki", "userinfo password", "", "loki:http://12345:%[2]s@%[1]s?level=Normal"),
		hostFirst("loki", "header X-Api-Key", "header", "loki:http://%s?header=X-Api-Key=%s&level=Normal"),
		hostFirst("loki", "header Authorization", "header", "loki:http://%s?level=Normal&header=Authorization=Basic %s"),
		hostFirst("otlp", "header Authorization", "header", "otlp:http://%s?level=Normal&header=Authorization=Bearer %s"),
		hostFirst("otlp", "header X-Api-Key", "header", "otlp:http://%s/otlp?level=Normal&header=X-Api-Key=%s&header=Accept-Language=en"),
		hostFirst("otlp", "userinfo password", "", "otlp:http://herald:%[2]s@%[1]s?level=Normal"),

		hostFirst("wechat", "parameter key", "key", "wechat:http://%s/cgi-bin/webhook/send?key=%s&level=Normal"),
		hostFirst("wechat", "parameter corp_secret", "corp_secret", "wechat:?corp_id=ww0123456789abcdef&agent_id=1000002&endpoint=http://%s&corp_secret=%s&level=Normal"),

		hostFirst("dingtalk", "parameter access_token", "access_token", "dingtalk:http://%s/robot/send?access_token=%s&level=Normal"),
		hostFirst("dingtalk", "parameter sign", "sign", "dingtalk:http://%s/robot/send?access_token=0123456789abcdef&sign=SEC%s&level=Normal"),

		hostFirst("slack", "path token", "", "slack:http://%s/services/T0AAAAAAA/B0BBBBBBB/%s?level=Normal"),
		fixed("slack", "hooks.slack.com path token", "", "slack:https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/%s?level=Normal"),
		hostFirst("slack", "parameter token", "token", "slack:http://%s/api/chat.postMessage?channel=C0123456789&token=%s&level=Normal"),

		hostFirst("discord", "path token", "", "discord:http://%s/api/webhooks/123456789012345678/%s?level=Normal"),

		hostFirst("teams", "parameter sig", "sig", "teams:http://%s/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%%2Ftriggers%%2Fmanual%%2Frun&sv=1.0&sig=%s&level=Normal"),
		hostFirst("teams", "unknown query parameter", "", "teams:http://%s/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=abcdef&xsig=%s&level=Normal"),

		hostFirst("feishu", "path token", "", "feishu:http://%s/open-apis/bot/v2/hook/%s?level=Normal"),
		hostFirst("feishu", "parameter secret", "secret", "feishu:http://%s/open-apis/bot/v2/hook/0123-4567?secret=%s&level=Normal"),

		hostFirst("kafka", "parameter password", "password", "kafka:?brokers=%s&eventstopic=events&user=herald&password=%s&level=Normal"),

		secretFirst("mysql", "DSN password", "", "mysql:?herald:%s@tcp(%s)/events?charset=utf8mb4&level=Normal"),

		hostFirst("elasticsearch", "parameter esUserSecret", "esUserSecret", "elasticsearch:http://%s?esUserName=herald&esUserSecret=%s&level=Normal"),
		hostFirst("elasticsearch", "parameter api_key", "api_key", "elasticsearch:http://%s?api_key=%s&level=Normal"),
		hostFirst("elasticsearch", "userinfo password", "", "elasticsearch:http://herald:%[2]s@%[1]s?level=Normal"),
		hostFirst("elasticsearch", "userinfo password in nodes", "", "elasticsearch:?nodes=http://herald:%[2]s@%[1]s&level=Normal"),

		hostFirst("influxdb", "parameter pw", "pw", "influxdb:http://%s?db=k8s&user=herald&pw=%s&level=Normal"),
		hostFirst("influxdb", "parameter token", "token", "influxdb:http://%s?org=herald&bucket=events&token=%s&level=Normal"),
		hostFirst("influxdb", "userinfo password", "", "influxdb:http://herald:%[2]s@%[1]s?db=k8s&level=Normal"),

		hostFirst("sls", "parameter accessKeyId", "accessKeyId", "sls:?project=herald-proj&logStore=events&regionId=cn-hangzhou&endpoint=http://%s&accessKeySecret=0123456789abcdef&accessKeyId=%s&level=Normal"),
		hostFirst("sls", "parameter accessKeySecret", "accessKeySecret", "sls:?project=herald-proj&logStore=events&regionId=cn-hangzhou&endpoint=http://%s&accessKeyId=LTAI0123456789&accessKeySecret=%s&level=Normal"),

		secretFirst("honeycomb", "parameter writekey", "writekey", "honeycomb:?dataset=k8s&writekey=%s&apihost=http://%s&level=Normal"),

		hostFirst("alertmanager", "parameter token", "token", "alertmanager:http://%s?token=%s&level=Normal"),
		hostFirst("alertmanager", "userinfo password", "", "alertmanager:http://herald:%[2]s@%[1]s?level=Normal"),

		hostFirst("grafana", "parameter token", "token", "grafana:http://%s?token=%s&level=Normal"),
		hostFirst("grafana", "userinfo password", "", "grafana:http://herald:%[2]s@%[1]s?level=Normal"),
	}
}

// NoSecrets are the sink types that hold no secret.
var NoSecrets = []string{"log", "file", "syslog"}

// MissingPlaces reports what Places lacks: a registered sink type with no place (and not in
// NoSecrets), and a declared Secret parameter no place covers.
func MissingPlaces() []string {
	places := Places()
	var out []string
	for _, d := range sinks.All() {
		has := slices.ContainsFunc(places, func(p Place) bool { return p.Scheme == d.Scheme })
		if !has && !slices.Contains(NoSecrets, d.Scheme) {
			out = append(out, fmt.Sprintf("sink %s has no secret place in sinktest.Places (nor is it in NoSecrets)", d.Scheme))
		}
		for _, p := range d.Params {
			if !p.Secret {
				continue
			}
			if !slices.ContainsFunc(places, func(pl Place) bool { return pl.Scheme == d.Scheme && pl.Param == p.Name }) {
				out = append(out, fmt.Sprintf("sink %s: secret parameter %q has no place in sinktest.Places", d.Scheme, p.Name))
			}
		}
	}
	return out
}

// Host returns where p's value should point in a leak test: rec's own receiver, or for the
// sinks that speak no HTTP (Kafka, MySQL) a port where nothing listens, so they fail fast.
func Host(p Place, rec *Receivers) string {
	switch p.Scheme {
	case "kafka", "mysql":
		return rec.Closed
	}
	return rec.OwnHost()
}

// CutAtAmpersand reports whether secret, written literally in p, is cut at a '&' into a
// parameter and a following one: a query parameter's value holding '&' (not a userinfo
// password, a DSN password or a path token, where '&' stays inside).
func CutAtAmpersand(p Place, secret string) bool {
	return p.Param != "" && strings.Contains(secret, "&") || strings.HasPrefix(p.Where, "query parameter") && strings.Contains(secret, "&")
}
