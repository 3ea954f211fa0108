# The project on the official Airflow 3 image; used by docker-compose.yml for every Airflow service.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root pyproject.toml constraints.txt README.md /opt/qdp/
COPY --chown=airflow:root etl /opt/qdp/etl
COPY --chown=airflow:root sql /opt/qdp/sql
COPY --chown=airflow:root expectations /opt/qdp/expectations
# Editable, so the migrations find sql/ and the validator finds expectations/ beside the package,
# exactly as in a checkout.
RUN pip install --no-cache-dir -c /opt/qdp/constraints.txt -e "/opt/qdp[postgres]"
COPY --chown=airflow:root dags /opt/airflow/dags
ENV QDP_EXPECTATIONS_DIR=/opt/airflow/expectations \
    GX_ANALYTICS_ENABLED=false
