"""Each addon builds as an OCA-style Python distribution (odoo-addon-<name>)."""

import subprocess
import sys
import zipfile

import bootstrap
import pytest


@pytest.mark.parametrize("addon", bootstrap.addon_dirs())
def test_addon_builds_as_a_wheel(addon, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            str(bootstrap.REPO / addon),
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    wheels = list(tmp_path.glob("*.whl"))
    assert [w.name.split("-")[0] for w in wheels] == [f"odoo_addon_{addon}"]
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert f"odoo/addons/{addon}/__manifest__.py" in names
    assert f"odoo/addons/{addon}/lib/adapter.py" in names or addon != "stock_multichannel"
