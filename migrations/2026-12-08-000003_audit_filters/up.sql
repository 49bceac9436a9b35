-- The audit log is read newest first under a filter (an actor, an action, a target): each is a
-- range of one index read backwards, not a walk of the whole log past other entries.
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
DROP INDEX audit_log_target_idx;
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id);
