package sinks

import (
	"fmt"
	"strings"

	"github.com/heraldproject/herald/common/uri"
)

// schemeAliases are names people give a service whose herald sink type is called otherwise:
// the vendor's other product names (WeCom is Work WeChat, Lark is Feishu) and common
// shorthands. An unknown scheme found here is answered with herald's name for it.
var schemeAliases = map[string]string{
	"wecom": "wechat", "workwechat": "wechat", "work-wechat": "wechat", "wxwork": "wechat",
	"wework": "wechat", "weixin": "wechat", "qywx": "wechat", "qyweixin": "wechat",
	"lark": "feishu", "larksuite": "feishu",
	"dingding": "dingtalk", "ding": "dingtalk",
	"msteams": "teams", "ms-teams": "teams", "microsoft-teams": "teams", "office365": "teams", "o365": "teams",
	"es": "elasticsearch", "elastic": "elasticsearch", "opensearch": "elasticsearch",
	"influx": "influxdb", "mariadb": "mysql",
	"aliyun-sls": "sls", "aliyunsls": "sls", "aliyunlog": "sls", "loghub": "sls",
	"stdout": "log", "stderr": "log", "console": "log",
}

// SuggestScheme returns the registered sink type the user probably meant by an unknown scheme:
// herald's name for a known synonym ("wecom" is "wechat"), else a registered type within a
// small edit distance ("wehcat"), else "".
func SuggestScheme(scheme string) string {
	s := strings.ToLower(scheme)
	if a, ok := schemeAliases[s]; ok {
		if _, registered := Lookup(a); registered {
			return a
		}
	}
	if _, ok := Lookup(s); ok {
		return s // a case slip: "WeChat"
	}
	n := uri.Nearest(s, Schemes())
	// Short names are close to everything: allow one edit below 5 letters, two from 5.
	limit := 1
	if len(s) >= 5 {
		limit = max(2, len(s)/3)
	}
	if n == "" || uri.Distance(s, n) > limit {
		return ""
	}
	return n
}

// unknownSchemeHint is the part of the unknown-scheme error that says what to write instead.
func unknownSchemeHint(scheme, raw string) string {
	if scheme == "http" || scheme == "https" {
		return fmt.Sprintf(" (for a plain HTTP receiver write --sink=webhook:%s)", redactRaw(raw))
	}
	if s := SuggestScheme(scheme); s != "" {
		if a, ok := schemeAliases[strings.ToLower(scheme)]; ok && a == s {
			return fmt.Sprintf("; did you mean %q? (herald's name for %s)", s, scheme)
		}
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}
