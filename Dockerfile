# The project on the official Airflow 3 image; used by docker-compose.yml for every Airflow service.
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION}-python3.11
ARG AIRFLOW_VERSION
COPY --chown=airflow:root pyproject.toml README.md /opt/qdp/
COPY --chown=airflow:root etl /opt/qdp/etl
COPY --chown=airflow:root sql /opt/qdp/sql
COPY --chown=airflow:root expectations /opt/qdp/expectations
# Against the official constraints of this Airflow version, which the image ships as
# ~/constraints.txt, not against constraints.txt: that one pins a laptop's venv (without the FAB
# auth manager the stack uses) and cannot be installed beside it. Naming apache-airflow==VERSION
# (with the extras the stack uses) stops pip from moving Airflow or its providers. Editable, so the
# migrations find sql/ and the validator finds expectations/ beside the package, as in a checkout.
# scripts/check-image-deps.sh checks that this resolves (pip dry run).
RUN pip install --no-cache-dir --constraint "${HOME}/constraints.txt" \
      "apache-airflow[celery,postgres,redis,fab,statsd]==${AIRFLOW_VERSION}" -e "/opt/qdp[postgres]"
COPY --chown=airflow:root dags /opt/airflow/dags
# The data volume is created from this folder: owned by the airflow user (gid 0, group-writable,
# as the official image expects for arbitrary uids).
USER root
RUN mkdir -p /opt/airflow/data && chown airflow:0 /opt/airflow/data && chmod 2775 /opt/airflow/data
USER airflow
ENV QDP_EXPECTATIONS_DIR=/opt/airflow/expectations \
    QDP_DATA_DIR=/opt/airflow/data \
    GX_ANALYTICS_ENABLED=false
