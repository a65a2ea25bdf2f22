import tracking


def test_the_model_is_logged_to_the_run_on_a_tracking_server_and_a_local_store():
    assert tracking.keeps_model_in_run("http://127.0.0.1:5000")
    assert tracking.keeps_model_in_run("sqlite:////tmp/out/mlflow.db")


def test_on_azure_ml_the_model_stays_in_the_job_output_only():
    uri = "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
    assert not tracking.keeps_model_in_run(uri)
