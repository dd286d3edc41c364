package service

import (
	"context"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// pollerFreshness is how recently a worker must have polled to count.
const pollerFreshness = 2 * time.Minute

// Health checks the dependencies; with workers it also counts the workers
// polling the task queue, so that a dead worker shows before dossiers pile up.
func (s *Service) Health(ctx context.Context, workers bool) Health {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	h := Health{Postgres: s.Store.Ping(ctx) == nil, WorkflowPollers: -1, ActivityPollers: -1}
	_, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
	h.Temporal = err == nil
	if !workers || !h.Temporal {
		return h
	}
	h.WorkflowPollers = s.pollers(ctx, enums.TASK_QUEUE_TYPE_WORKFLOW)
	h.ActivityPollers = s.pollers(ctx, enums.TASK_QUEUE_TYPE_ACTIVITY)
	return h
}

func (s *Service) pollers(ctx context.Context, kind enums.TaskQueueType) int {
	res, err := s.Temporal.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
		Namespace: s.Namespace, TaskQueue: &taskqueue.TaskQueue{Name: s.TaskQueue, Kind: enums.TASK_QUEUE_KIND_NORMAL}, TaskQueueType: kind,
	})
	if err != nil {
		return -1
	}
	n := 0
	for _, p := range res.GetPollers() {
		if t := p.GetLastAccessTime(); t != nil && time.Since(t.AsTime()) < pollerFreshness {
			n++
		}
	}
	return n
}
