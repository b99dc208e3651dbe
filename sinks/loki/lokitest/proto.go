package lokitest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	_ "google.golang.org/protobuf/types/known/timestamppb" // registers google/protobuf/timestamp.proto
)

// pushProto is Loki's push.proto (package logproto), written out as a descriptor with the
// field numbers Loki declares, so the receiver decodes with the protobuf runtime's own
// descriptor-driven decoder and shares no code with herald's hand-written encoder:
//
//	message PushRequest   { repeated StreamAdapter streams = 1; string format = 2; }
//	message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
//	message EntryAdapter  { google.protobuf.Timestamp timestamp = 1; string line = 2;
//	                        repeated LabelPairAdapter structuredMetadata = 3;
//	                        repeated LabelPairAdapter parsed = 4; }
//	message LabelPairAdapter { string name = 1; string value = 2; }
func pushProto() *descriptorpb.FileDescriptorProto {
	field := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, repeated bool, msg string) *descriptorpb.FieldDescriptorProto {
		label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
		if repeated {
			label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
		}
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(), Label: label.Enum(), JsonName: proto.String(name)}
		if msg != "" {
			f.TypeName = proto.String(msg)
		}
		return f
	}
	const (
		str = descriptorpb.FieldDescriptorProto_TYPE_STRING
		msg = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
		u64 = descriptorpb.FieldDescriptorProto_TYPE_UINT64
	)
	return &descriptorpb.FileDescriptorProto{
		Name:       proto.String("lokitest/push.proto"),
		Package:    proto.String("logproto"),
		Dependency: []string{"google/protobuf/timestamp.proto"},
		Syntax:     proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("PushRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("streams", 1, msg, true, ".logproto.StreamAdapter"),
				field("format", 2, str, false, ""),
			}},
			{Name: proto.String("StreamAdapter"), Field: []*descriptorpb.FieldDescriptorProto{
				field("labels", 1, str, false, ""),
				field("entries", 2, msg, true, ".logproto.EntryAdapter"),
				field("hash", 3, u64, false, ""),
			}},
			{Name: proto.String("EntryAdapter"), Field: []*descriptorpb.FieldDescriptorProto{
				field("timestamp", 1, msg, false, ".google.protobuf.Timestamp"),
				field("line", 2, str, false, ""),
				field("structuredMetadata", 3, msg, true, ".logproto.LabelPairAdapter"),
				field("parsed", 4, msg, true, ".logproto.LabelPairAdapter"),
			}},
			{Name: proto.String("LabelPairAdapter"), Field: []*descriptorpb.FieldDescriptorProto{
				field("name", 1, str, false, ""),
				field("value", 2, str, false, ""),
			}},
		},
	}
}

var (
	descOnce    sync.Once
	pushRequest protoreflect.MessageDescriptor
	descErr     error
)

func pushRequestDescriptor() (protoreflect.MessageDescriptor, error) {
	descOnce.Do(func() {
		fd, err := protodesc.NewFile(pushProto(), protoregistry.GlobalFiles)
		if err != nil {
			descErr = err
			return
		}
		pushRequest = fd.Messages().ByName("PushRequest")
	})
	return pushRequest, descErr
}

// minTimestamp and maxTimestamp bound a google.protobuf.Timestamp (0001-01-01 to
// 9999-12-31), as the runtime that turns one into a Go time checks.
const (
	minTimestamp = -62135596800
	maxTimestamp = 253402300799
)

// decodeProtobuf decodes an uncompressed PushRequest. Fields this descriptor does not know are
// an error: Loki would skip them, but a field herald wrote under a wrong number is a bug that
// would otherwise pass for an empty line.
func decodeProtobuf(b []byte) ([]Stream, error) {
	desc, err := pushRequestDescriptor()
	if err != nil {
		return nil, err
	}
	m := dynamicpb.NewMessage(desc)
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decoding the PushRequest: %v", err)
	}
	if err := noUnknown(m); err != nil {
		return nil, err
	}
	fields := func(m protoreflect.Message, name string) protoreflect.FieldDescriptor {
		return m.Descriptor().Fields().ByName(protoreflect.Name(name))
	}
	var out []Stream
	streams := m.Get(fields(m, "streams")).List()
	for i := range streams.Len() {
		sm := streams.Get(i).Message()
		st := Stream{Raw: sm.Get(fields(sm, "labels")).String()}
		entries := sm.Get(fields(sm, "entries")).List()
		for j := range entries.Len() {
			em := entries.Get(j).Message()
			tsField := fields(em, "timestamp")
			if !em.Has(tsField) {
				return nil, fmt.Errorf("stream %d, entry %d: no timestamp", i, j)
			}
			tm := em.Get(tsField).Message()
			sec := tm.Get(fields(tm, "seconds")).Int()
			nanos := tm.Get(fields(tm, "nanos")).Int()
			if sec < minTimestamp || sec > maxTimestamp || nanos < 0 || nanos >= 1e9 {
				return nil, fmt.Errorf("stream %d, entry %d: timestamp %d s %d ns is out of range", i, j, sec, nanos)
			}
			e := Entry{Time: time.Unix(sec, nanos).UTC(), Line: em.Get(fields(em, "line")).String()}
			meta := em.Get(fields(em, "structuredMetadata")).List()
			for k := range meta.Len() {
				pm := meta.Get(k).Message()
				if e.Metadata == nil {
					e.Metadata = map[string]string{}
				}
				e.Metadata[pm.Get(fields(pm, "name")).String()] = pm.Get(fields(pm, "value")).String()
			}
			if em.Get(fields(em, "parsed")).List().Len() > 0 {
				return nil, fmt.Errorf("stream %d, entry %d: parsed labels are for query replies, not pushes", i, j)
			}
			st.Entries = append(st.Entries, e)
		}
		out = append(out, st)
	}
	return out, nil
}

// noUnknown fails on any field, at any depth, that the descriptor does not declare.
func noUnknown(m protoreflect.Message) error {
	if len(m.GetUnknown()) > 0 {
		return fmt.Errorf("%s holds fields push.proto does not declare (%d bytes)", m.Descriptor().FullName(), len(m.GetUnknown()))
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := range l.Len() {
				if err = noUnknown(l.Get(i).Message()); err != nil {
					return false
				}
			}
			return true
		}
		err = noUnknown(v.Message())
		return err == nil
	})
	return err
}

var errNoStreams = errors.New("the push holds no stream")
