-- deployment_notify: hand-written SQL
-- Workers LISTEN on "meshflow_deployments"; any change to a deployment row wakes them, so a
-- deploy from the studio, the CLI or plain SQL is picked up within a second.
CREATE OR REPLACE FUNCTION meshflow_notify_deployment() RETURNS trigger AS $$
DECLARE
  row_data RECORD;
BEGIN
  IF TG_OP = 'DELETE' THEN
    row_data := OLD;
  ELSE
    row_data := NEW;
  END IF;
  PERFORM pg_notify(
    'meshflow_deployments',
    json_build_object('op', TG_OP, 'id', row_data.id, 'flowId', row_data."flowId", 'status', row_data.status)::text
  );
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER deployment_notify
AFTER INSERT OR UPDATE OR DELETE ON "deployment"
FOR EACH ROW EXECUTE FUNCTION meshflow_notify_deployment();
