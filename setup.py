from setuptools import find_packages, setup

setup(
    name="aidas_dagster",
    version="0.1.0",
    description="AIDAS: a self-running Korean web-drama studio as a Dagster asset pipeline",
    packages=find_packages(exclude=["aidas_dagster_tests", "aidas_dagster_tests.*"]),
    python_requires=">=3.11,<3.13",
    install_requires=[
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",
        "dagster-postgres==0.29.27",
        "openai>=3.54,<4",
        "elevenlabs>=2.78,<3",
        "google-cloud-texttospeech>=2.38,<3",
        "google-api-python-client>=2.202,<3",
        "requests>=2.32",
        "moviepy>=2.2.1,<3",
        "pillow>=11.3",
        "pandas>=3.1",
        "numpy>=2.0",
        "pyyaml>=6.0",
        # In-process espeak-ng with Korean data and word timings: the offline voice.
        "espeakng-loader>=0.2.4",
        # Google's own OAuth installed-app flow, for `aidas youtube-auth`.
        "google-auth-oauthlib>=1.2",
        # Dagster's Celery executor (same release train as dagster 1.13.27) for running steps on workers.
        "dagster-celery==0.29.27",
        "redis>=5",
        # The terminal progress bar of `aidas produce`/`demo` (long final cuts).
        "tqdm>=4.66",
    ],
    extras_require={
        "dev": [
            "pytest>=9",
            "pytest-httpserver>=1.2",
            "pytest-xdist>=3.5",
            # Dagster's project CLI (`dg check defs`, `dg list defs`, `dg dev`), same release as dagster.
            "dagster-dg-cli==1.13.27",
        ],
    },
    entry_points={"console_scripts": ["aidas=aidas_dagster.cli:main"]},
)
