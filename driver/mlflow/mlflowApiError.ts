import { MlopsError, EXIT } from "../core/errors.js";

/** An MLflow REST call that failed: the HTTP status and MLflow's error code (RESOURCE_DOES_NOT_EXIST, ...). */
export class MlflowApiError extends MlopsError {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: string,
  ) {
    super(message, "mlflow", EXIT.failure);
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof MlflowApiError && (e.errorCode === "RESOURCE_DOES_NOT_EXIST" || e.status === 404);

export const isAlreadyExists = (e: unknown): boolean => e instanceof MlflowApiError && e.errorCode === "RESOURCE_ALREADY_EXISTS";
