// Command kvs-local-provisioner is a tiny dynamic provisioner for the single-node test
// cluster: for every Pending PVC of a StorageClass whose provisioner is kvs.local/hostpath
// it creates a directory (mode 0777, so non-root pods can write) under -root and a
// hostPath PersistentVolume pre-bound to the claim; when such a PV is Released (or Failed)
// and its reclaim policy is Delete, it removes the directory and the PV. It polls the API
// (simple and robust: a few objects, one node) instead of running informers.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	provisionerName  = "kvs.local/hostpath"
	annProvisionedBy = "pv.kubernetes.io/provisioned-by"
	annSelectedNode  = "volume.kubernetes.io/selected-node"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of a cluster admin")
	root := flag.String("root", "/tmp/kvs-cluster/pv", "directory holding the volumes")
	node := flag.String("node", "", "node name for the PVs' node affinity (empty: none)")
	interval := flag.Duration("interval", time.Second, "poll interval")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	if err := os.MkdirAll(*root, 0o755); err != nil {
		log.Fatalf("root: %v", err)
	}
	absRoot, _ := filepath.Abs(*root)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	p := &provisioner{cs: cs, root: absRoot, node: *node}
	log.Printf("kvs-local-provisioner: provisioner=%s root=%s", provisionerName, absRoot)
	for {
		if err := p.pass(ctx); err != nil && ctx.Err() == nil {
			log.Printf("pass: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(*interval):
		}
	}
}

type provisioner struct {
	cs   kubernetes.Interface
	root string
	node string
}

func (p *provisioner) pass(ctx context.Context) error {
	classes, err := p.cs.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	mine := map[string]*storagev1.StorageClass{}
	for i := range classes.Items {
		if classes.Items[i].Provisioner == provisionerName {
			mine[classes.Items[i].Name] = &classes.Items[i]
		}
	}
	pvcs, err := p.cs.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range pvcs.Items {
		pvc := &pvcs.Items[i]
		if pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimPending || pvc.DeletionTimestamp != nil {
			continue
		}
		if pvc.Spec.StorageClassName == nil {
			continue
		}
		sc, ok := mine[*pvc.Spec.StorageClassName]
		if !ok {
			continue
		}
		if sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer &&
			pvc.Annotations[annSelectedNode] == "" {
			continue
		}
		if err := p.provision(ctx, sc, pvc); err != nil {
			log.Printf("provision %s/%s: %v", pvc.Namespace, pvc.Name, err)
		}
	}
	pvs, err := p.cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range pvs.Items {
		pv := &pvs.Items[i]
		if pv.Annotations[annProvisionedBy] != provisionerName || pv.DeletionTimestamp != nil {
			continue
		}
		if pv.Status.Phase != corev1.VolumeReleased && pv.Status.Phase != corev1.VolumeFailed {
			continue
		}
		if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
			continue
		}
		if err := p.delete(ctx, pv); err != nil {
			log.Printf("delete %s: %v", pv.Name, err)
		}
	}
	return nil
}

func (p *provisioner) provision(ctx context.Context, sc *storagev1.StorageClass, pvc *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(pvc.UID)
	dir := filepath.Join(p.root, fmt.Sprintf("%s_%s_%s", pvc.Namespace, pvc.Name, name))
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o777); err != nil { // umask-proof: non-root pods write here
		return err
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		reclaim = *sc.ReclaimPolicy
	}
	size, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return fmt.Errorf("no storage request")
	}
	hostPathType := corev1.HostPathDirectory
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{annProvisionedBy: provisionerName},
			Labels:      map[string]string{"kvs.local/pvc-namespace": pvc.Namespace},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              sc.Name,
			VolumeMode:                    pvc.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &hostPathType},
			},
			MountOptions: sc.MountOptions,
		},
	}
	if p.node != "" {
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{p.node},
			}}}},
		}}
	}
	_, err := p.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err == nil {
		log.Printf("provisioned %s for %s/%s at %s", name, pvc.Namespace, pvc.Name, dir)
	}
	return err
}

func (p *provisioner) delete(ctx context.Context, pv *corev1.PersistentVolume) error {
	if pv.Spec.HostPath != nil {
		dir := filepath.Clean(pv.Spec.HostPath.Path)
		if !strings.HasPrefix(dir, p.root+string(filepath.Separator)) {
			return fmt.Errorf("refusing to remove %s: outside %s", dir, p.root)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	err := p.cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	log.Printf("deleted %s", pv.Name)
	return nil
}
