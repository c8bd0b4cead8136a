# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the plugin tests: ``web`` and ``web_tls``, web servers on 127.0.0.1
(plugin_utils/local_http.py)."""

from __future__ import annotations

from .plugin_utils.local_http import web, web_tls

__all__ = ["web", "web_tls"]
