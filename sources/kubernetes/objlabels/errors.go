package objlabels

import "fmt"

// ForbiddenError is what Labels returns when RBAC denies reading an object. It names the rule
// herald's ServiceAccount lacks, so that the caller can log or report something an operator can
// act on instead of a bare 403. It is cached for the TTL like an answer: permissions do not
// change by themselves, and asking again for every event would only add load.
type ForbiddenError struct {
	// Verb is the denied verb: always "get".
	Verb string
	// Group and Resource name the resource the rule must cover; Group is empty for the core
	// group.
	Group, Resource string
	// Namespace is the object's namespace, empty for a cluster-scoped object: a Role in that
	// namespace suffices, a ClusterRole covers every namespace.
	Namespace string
	// Name is the object's name.
	Name string
	// Err is the API server's error.
	Err error
}

func (e *ForbiddenError) Error() string {
	group := fmt.Sprintf("%q", e.Group)
	if e.Group == "" {
		group = `"" (core)`
	}
	where := "cluster-wide (ClusterRole)"
	if e.Namespace != "" {
		where = fmt.Sprintf("in namespace %q (Role or ClusterRole)", e.Namespace)
	}
	gr := e.Resource
	if e.Group != "" {
		gr += "." + e.Group
	}
	return fmt.Sprintf("objlabels: cannot read the labels of %s %s: RBAC must allow verb %q on resource %q in API group %s %s: %v",
		gr, objectName(e.Namespace, e.Name), e.Verb, e.Resource, group, where, e.Err)
}

// Unwrap returns the API server's error, so apierrors.IsForbidden still recognises it.
func (e *ForbiddenError) Unwrap() error { return e.Err }
