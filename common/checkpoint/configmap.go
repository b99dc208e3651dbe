package checkpoint

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ConfigMapKey is the key of the ConfigMap's data that holds the checkpoint.
const ConfigMapKey = "checkpoint"

// requestTimeout bounds one API request.
const requestTimeout = 10 * time.Second

// ConfigMap is a checkpoint in a ConfigMap (--checkpoint=configmap:NS/NAME), created on the
// first save. herald's ServiceAccount needs get, create and update on it (a Role in NS).
// Replicas under leader election share it: the new leader resumes where the old one stopped.
type ConfigMap struct {
	Client    kubernetes.Interface
	Namespace string
	Name      string
	// OnForeignWrite, when set, is called when a save finds that another process wrote the
	// ConfigMap since this one last read or wrote it: two heralds share the checkpoint (two
	// installs with one --instance, or replicas without --leader-elect). other is what the
	// checkpoint says of that writer (zero for a herald older than format 3).
	OnForeignWrite func(other Origin)

	mu   sync.Mutex
	last *corev1.ConfigMap // as last read or written, for updates
}

// Load reads the ConfigMap.
func (c *ConfigMap) Load() (Checkpoint, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	cm, err := c.Client.CoreV1().ConfigMaps(c.Namespace).Get(ctx, c.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Checkpoint{}, ErrNotFound
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%s: %w%s", c, err, rbacHint(err))
	}
	c.mu.Lock()
	c.last = cm
	c.mu.Unlock()
	data, ok := cm.Data[ConfigMapKey]
	if !ok {
		return Checkpoint{}, ErrNotFound
	}
	cp, err := Decode([]byte(data))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%s, key %q: %w", c, ConfigMapKey, err)
	}
	return cp, nil
}

// Save creates or updates the ConfigMap. A conflict (someone else wrote it) re-reads it and
// tries once more.
func (c *ConfigMap) Save(cp Checkpoint) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	cms := c.Client.CoreV1().ConfigMaps(c.Namespace)
	data := string(Encode(cp))
	conflicted := false
	for attempt := 0; attempt < 2; attempt++ {
		if c.last == nil {
			cm, err := cms.Get(ctx, c.Name, metav1.GetOptions{})
			if err == nil && conflicted {
				c.checkForeign(cm, cp.Origin)
			}
			switch {
			case apierrors.IsNotFound(err):
				cm = &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: c.Name, Namespace: c.Namespace,
						Labels: map[string]string{"app.kubernetes.io/name": "herald", "app.kubernetes.io/component": "checkpoint"}},
					Data: map[string]string{ConfigMapKey: data},
				}
				created, err := cms.Create(ctx, cm, metav1.CreateOptions{})
				if apierrors.IsAlreadyExists(err) {
					continue
				}
				if err != nil {
					return fmt.Errorf("%s: create: %w%s", c, err, rbacHint(err))
				}
				c.last = created
				return nil
			case err != nil:
				return fmt.Errorf("%s: %w%s", c, err, rbacHint(err))
			}
			c.last = cm
		}
		cm := c.last.DeepCopy()
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[ConfigMapKey] = data
		updated, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			c.last = nil
			conflicted = apierrors.IsConflict(err)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: update: %w%s", c, err, rbacHint(err))
		}
		c.last = updated
		return nil
	}
	return fmt.Errorf("%s: changed by someone else twice while saving; will try again", c)
}

func (c *ConfigMap) String() string { return "configmap:" + c.Namespace + "/" + c.Name }

func rbacHint(err error) string {
	if apierrors.IsForbidden(err) {
		return " (grant herald's ServiceAccount get, create and update on this ConfigMap: a Role in its namespace, as deploy/kubernetes/herald.yaml does)"
	}
	return ""
}

// checkForeign reports, through OnForeignWrite, a checkpoint in cm saved by another process
// than self.
func (c *ConfigMap) checkForeign(cm *corev1.ConfigMap, self Origin) {
	if c.OnForeignWrite == nil {
		return
	}
	other, err := Decode([]byte(cm.Data[ConfigMapKey]))
	if err != nil || other.Origin.Process == "" || other.Origin.Process != self.Process {
		c.OnForeignWrite(other.Origin)
	}
}
