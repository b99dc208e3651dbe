// Package chat is the base every chat-robot sink (wechat, dingtalk, feishu, slack, discord,
// teams) embeds, so each sink only formats its payload. A sink embeds a Robot built from its
// Format; the Robot paces (a per-robot token bucket, Pacer), decides how many messages a batch
// becomes (Export), renders the user's body template or fits the sink's layout to the service's
// limit (FitSingle; for a digest, Summarize and FitDigest), posts through the sink's Format, and
// previews. Fields is what every default layout shows.
package chat
