# The project on the official Airflow 3 image; used by docker-compose.yml for every Airflow service.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root pyproject.toml constraints.txt README.md /opt/qdp/
COPY --chown=airflow:root etl /opt/qdp/etl
RUN pip install --no-cache-dir -c /opt/qdp/constraints.txt "/opt/qdp[postgres]"
COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root expectations /opt/airflow/expectations
ENV QDP_EXPECTATIONS_DIR=/opt/airflow/expectations \
    GX_ANALYTICS_ENABLED=false
